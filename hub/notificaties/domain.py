"""What the Notificaties API keeps, and how it is written to Kafka: kanalen and abonnementen.

Plain frozen values, no I/O. A kanaal's id is derived from its name (UUIDv5), so every hub
process, and a kanaal created twice at once by two of them, gives it the same url. An abonnement
belongs to the tenants of the client that created it (``tenants``), kept with it.

Record values on the compacted topics are JSON with a version member ``v``; a value this code
cannot read is passed over by the store (logged), never fatal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import orjson

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Abonnement",
    "Kanaal",
    "KanaalFilter",
    "RecordError",
    "kanaal_id",
]

_KANAAL_NAMESPACE = uuid.UUID("6f0b7c1e-2d5a-4c1e-9a57-3b8e2f4d6a10")  # this project's own
_RECORD_VERSION = 1


class RecordError(ValueError):
    """A record on a compacted topic that is not a kanaal or abonnement this code can read."""


def kanaal_id(naam: str) -> uuid.UUID:
    """The id of the kanaal named ``naam``: the same in every hub process, for ever."""
    return uuid.uuid5(_KANAAL_NAMESPACE, naam)


@dataclass(frozen=True)
class Kanaal:
    """A kanaal (exchange): a name shared by every tenant, the kenmerken its notificaties may be
    filtered on (``filters``) and a link to what it carries."""

    naam: str
    documentatie_link: str = ""
    filters: tuple[str, ...] = ()

    @property
    def id(self) -> uuid.UUID:
        return kanaal_id(self.naam)

    def record(self) -> tuple[bytes, bytes]:
        """Key (the name: one record per name) and value of this kanaal on its topic."""
        value = {
            "v": _RECORD_VERSION,
            "naam": self.naam,
            "documentatieLink": self.documentatie_link,
            "filters": list(self.filters),
        }
        return self.naam.encode(), orjson.dumps(value)

    @classmethod
    def from_record(cls, key: bytes, value: bytes) -> Kanaal:
        try:
            data = orjson.loads(value)
            kanaal = cls(
                naam=_text(data["naam"]),
                documentatie_link=_text(data.get("documentatieLink", "")),
                filters=tuple(_text(name) for name in data.get("filters", [])),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise RecordError(f"not a kanaal: {type(exc).__name__}") from exc
        if key != kanaal.naam.encode():
            raise RecordError("a kanaal's key is its name")
        return kanaal


class KanaalFilter(NamedTuple):
    """One kanaal an abonnement takes, with the kenmerken its notificaties must have."""

    naam: str
    filters: Mapping[str, str]


@dataclass(frozen=True)
class Abonnement:
    """A subscriber's callback for notificaties of some kanalen, of the tenants it belongs to.

    ``auth`` is the ``Authorization`` header value sent with every callback; ``client`` the
    client that created it (kept for operators, not for access: that goes by tenant).
    """

    id: uuid.UUID
    tenants: tuple[str, ...]
    callback_url: str
    auth: str
    kanalen: tuple[KanaalFilter, ...] = ()
    client: str = field(default="", compare=False)

    def record(self) -> tuple[bytes, bytes]:
        """Key (the id) and value of this abonnement on its topic."""
        value = {
            "v": _RECORD_VERSION,
            "id": str(self.id),
            "tenants": list(self.tenants),
            "client": self.client,
            "callbackUrl": self.callback_url,
            "auth": self.auth,
            "kanalen": [{"naam": k.naam, "filters": dict(k.filters)} for k in self.kanalen],
        }
        return str(self.id).encode(), orjson.dumps(value)

    @classmethod
    def from_record(cls, key: bytes, value: bytes) -> Abonnement:
        try:
            data = orjson.loads(value)
            abonnement = cls(
                id=uuid.UUID(_text(data["id"])),
                tenants=tuple(_text(t) for t in data["tenants"]),
                client=_text(data.get("client", "")),
                callback_url=_text(data["callbackUrl"]),
                auth=_text(data["auth"]),
                kanalen=tuple(
                    KanaalFilter(
                        _text(group["naam"]),
                        {_text(k): _text(v) for k, v in group.get("filters", {}).items()},
                    )
                    for group in data["kanalen"]
                ),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"not an abonnement: {type(exc).__name__}") from exc
        if key != str(abonnement.id).encode():
            raise RecordError("an abonnement's key is its id")
        if not abonnement.tenants:
            raise RecordError("an abonnement belongs to at least one tenant")
        return abonnement


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value
