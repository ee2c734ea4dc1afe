"""CloudEvents on Kafka (protocol binding), following the NL GOV profile.

Binary mode is what Knooppunt writes: the payload as JSON in the record value, the attributes in
``ce_*`` headers, ``content-type`` for ``datacontenttype``. Structured mode
(``application/cloudevents+json``, the whole event in the value) is read too.
Attributes never carry personal data: the subject is an id of the case or submission, never a BSN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from contracts.errors import ContractError
from contracts.identifiers import passes_elfproef

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["SPEC_VERSION", "CloudEvent", "source_urn"]

SPEC_VERSION = "1.0"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")
_SOURCE_PATTERN = re.compile(r"^urn:nld:oin:\d{20}:systeem:[A-Za-z0-9._-]+$")
_REQUIRED = ("id", "source", "type", "specversion")


def source_urn(oin: str, system: str) -> str:
    """The NL GOV profile's ``source``: ``urn:nld:oin:<OIN>:systeem:<name>``."""
    return f"urn:nld:oin:{oin}:systeem:{system}"


@dataclass(frozen=True)
class CloudEvent:
    """One event: its CloudEvents attributes and its JSON payload (``data``, already encoded)."""

    id: str
    source: str
    type: str
    tenant: str
    data: bytes
    subject: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str | None = None
    datacontenttype: str = "application/json"
    traceparent: str | None = None

    def __post_init__(self) -> None:
        if not _TYPE_PATTERN.fullmatch(self.type):
            raise ContractError("must be reverse-DNS, e.g. nl.gemeente.formulier.ingediend", "type")
        if not _SOURCE_PATTERN.fullmatch(self.source):
            raise ContractError("must be urn:nld:oin:<20-digit OIN>:systeem:<name>", "source")
        if self.subject is not None and passes_elfproef(self.subject):
            raise ContractError(
                "must never be a BSN; use the id of the case or submission", "subject"
            )

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Binary-mode headers: ``ce_<attribute>`` plus ``content-type``."""
        attributes: dict[str, str | None] = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.isoformat(),
            "ce_subject": self.subject,
            "ce_dataschema": self.dataschema,
            "ce_tenant": self.tenant,
            "content-type": self.datacontenttype,
            "traceparent": self.traceparent,
        }
        return [(name, value.encode()) for name, value in attributes.items() if value is not None]

    def payload(self) -> Any:
        try:
            return orjson.loads(self.data)
        except orjson.JSONDecodeError as exc:
            raise ContractError(f"payload is not JSON: {exc}", "data") from exc

    @classmethod
    def from_kafka(cls, headers: Iterable[tuple[str, bytes]], value: bytes | None) -> CloudEvent:
        """Read an event in binary or structured mode; raise ContractError naming what is wrong."""
        attributes = {name: raw.decode("utf-8", "replace") for name, raw in headers}
        if attributes.get("content-type", "").startswith(STRUCTURED_CONTENT_TYPE):
            return cls._from_structured(value)
        missing = [name for name in _REQUIRED if f"ce_{name}" not in attributes]
        if missing:
            raise ContractError("missing CloudEvents header", f"ce_{missing[0]}")
        if attributes["ce_specversion"] != SPEC_VERSION:
            raise ContractError(
                f"unsupported specversion, expected {SPEC_VERSION}", "ce_specversion"
            )
        return cls._build(
            {name[3:]: text for name, text in attributes.items() if name.startswith("ce_")},
            data=value or b"",
            datacontenttype=attributes.get("content-type", "application/json"),
            traceparent=attributes.get("traceparent"),
        )

    @classmethod
    def _from_structured(cls, value: bytes | None) -> CloudEvent:
        try:
            document = orjson.loads(value or b"")
        except orjson.JSONDecodeError as exc:
            raise ContractError(f"structured event is not JSON: {exc}", "value") from exc
        if not isinstance(document, dict):
            raise ContractError("structured event must be a JSON object", "value")
        missing = [name for name in _REQUIRED if name not in document]
        if missing:
            raise ContractError("missing CloudEvents attribute", missing[0])
        data = orjson.dumps(document.pop("data", None))
        return cls._build(
            {k: str(v) for k, v in document.items() if v is not None},
            data=data,
            datacontenttype=str(document.get("datacontenttype", "application/json")),
            traceparent=document.get("traceparent"),
        )

    @classmethod
    def _build(
        cls,
        attributes: dict[str, str],
        data: bytes,
        datacontenttype: str,
        traceparent: str | None,
    ) -> CloudEvent:
        if "tenant" not in attributes:
            raise ContractError("missing tenant extension attribute", "ce_tenant")
        try:
            time = datetime.fromisoformat(attributes["time"]) if "time" in attributes else None
        except ValueError as exc:
            raise ContractError(f"not an RFC 3339 timestamp: {exc}", "ce_time") from exc
        return cls(
            id=attributes["id"],
            source=attributes["source"],
            type=attributes["type"],
            tenant=attributes["tenant"],
            data=data,
            subject=attributes.get("subject"),
            time=time or datetime.now(UTC),
            dataschema=attributes.get("dataschema"),
            datacontenttype=datacontenttype,
            traceparent=traceparent,
        )
