"""The one explicit registry of every contract type and version. No import magic: add a line.

A spec is one major version of one event type, or of a family of types that share a topic (the
ZGW notifications of one kanaal: ``nl.overheid.zaken.<resource>.<actie>``).
"""

from __future__ import annotations

import builtins
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from contracts.aflevering import v1 as aflevering_v1
from contracts.base import Contract
from contracts.bericht import v1 as bericht_v1
from contracts.brp import v1 as brp_v1
from contracts.brp import v2 as brp_v2
from contracts.errors import ContractError
from contracts.formulier import v1 as formulier_v1
from contracts.formulier import v2 as formulier_v2
from contracts.zgw import v1 as zgw_v1

__all__ = ["CONTRACTS", "ContractSpec", "contract_for", "is_known_type", "versions_of"]

_FAMILY_SUFFIX = re.compile(r"^[a-z][a-zA-Z0-9_]*\.[a-z][a-z_]*$")
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ContractSpec:
    """One major version of one event type (or type family), with its model and an example."""

    type: str
    version: int
    model: builtins.type[Contract]  # `type` alone would mean the field above
    summary: str
    example: dict[str, Any] = field(repr=False)
    family: bool = False
    upcast_from_previous: Upcaster | None = field(default=None, repr=False)

    @property
    def dataschema(self) -> str:
        return f"urn:nld:knooppunt:schema:{self.type}:v{self.version}"

    def accepts(self, event_type: str) -> bool:
        """Whether events of ``event_type`` belong to this spec."""
        if not self.family:
            return event_type == self.type
        prefix = self.type + "."
        return event_type.startswith(prefix) and bool(
            _FAMILY_SUFFIX.fullmatch(event_type[len(prefix) :])
        )

    def validate(
        self, payload: object, mode: Literal["produce", "consume"] = "produce"
    ) -> Contract:
        """The payload as this contract's model, or a ContractError naming the first bad field.

        Producing is strict (unknown fields refused); consuming ignores unknown fields, so that
        optional fields added within a major version do not break older consumers.
        """
        try:
            model = self.model.model_validate(
                payload, extra="forbid" if mode == "produce" else "ignore"
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "data"
            raise ContractError(str(first["msg"]).removeprefix("Value error, "), where) from exc
        member = model.family_member()
        if self.family and member != self.type.rsplit(".", 1)[1]:
            raise ContractError(f"{member!r} does not belong on {self.type}", "kanaal")
        return model

    def event_type_of(self, model: Contract) -> str:
        suffix = model.event_type_suffix()
        return f"{self.type}.{suffix}" if self.family and suffix else self.type


def _zgw(kanaal: str) -> ContractSpec:
    return ContractSpec(
        type=f"nl.overheid.{kanaal}",
        version=1,
        model=zgw_v1.ZgwNotificatie,
        summary=f"ZGW notifications of kanaal '{kanaal}': nl.overheid.{kanaal}.<resource>.<actie>",
        example={**zgw_v1.EXAMPLE, "kanaal": kanaal},
        family=True,
    )


CONTRACTS: tuple[ContractSpec, ...] = (
    ContractSpec(
        type="nl.gemeente.formulier.ingediend",
        version=1,
        model=formulier_v1.FormulierIngediend,
        summary="A citizen's or company's form submission (e-formulier).",
        example=formulier_v1.EXAMPLE,
    ),
    ContractSpec(
        type="nl.gemeente.formulier.ingediend",
        version=2,
        model=formulier_v2.FormulierIngediend,
        summary="A form submission; the authentication context as one structured object.",
        example=formulier_v2.EXAMPLE,
        upcast_from_previous=formulier_v2.upcast_from_v1,
    ),
    *(_zgw(kanaal) for kanaal in zgw_v1.KANALEN),
    ContractSpec(
        type="nl.gemeente.brp.persoon-gewijzigd",
        version=1,
        model=brp_v1.PersoonGewijzigd,
        summary="A BRP change to a person the tenant follows (which categories, not values).",
        example=brp_v1.EXAMPLE,
    ),
    ContractSpec(
        type="nl.gemeente.brp.persoon-gewijzigd",
        version=2,
        model=brp_v2.PersoonGewijzigd,
        summary="A person the tenant follows changed in the BRP (who and which day; not what).",
        example=brp_v2.EXAMPLE,
        upcast_from_previous=brp_v2.upcast_from_v1,
    ),
    ContractSpec(
        type="nl.gemeente.bericht.verzoek-aangemaakt",
        version=1,
        model=bericht_v1.BerichtVerzoekAangemaakt,
        summary="A message to send to a citizen: channel, template, personalisation, recipient.",
        example=bericht_v1.EXAMPLE,
    ),
    ContractSpec(
        type="nl.gemeente.aflevering.geslaagd",
        version=1,
        model=aflevering_v1.AfleveringGeslaagd,
        summary="An event was delivered to a back office, with the reference it returned.",
        example=aflevering_v1.EXAMPLE_GESLAAGD,
    ),
    ContractSpec(
        type="nl.gemeente.aflevering.mislukt",
        version=1,
        model=aflevering_v1.AfleveringMislukt,
        summary="An event could not be delivered to a back office, and why.",
        example=aflevering_v1.EXAMPLE_MISLUKT,
    ),
)


def versions_of(event_type: str) -> list[ContractSpec]:
    """Every spec that accepts ``event_type``, oldest version first."""
    return list(_versions(event_type))


@functools.lru_cache(maxsize=1024)  # bounded: event types come from records, hostile ones too
def _versions(event_type: str) -> tuple[ContractSpec, ...]:
    return tuple(sorted((s for s in CONTRACTS if s.accepts(event_type)), key=lambda s: s.version))


def is_known_type(name: str) -> bool:
    """A registered type, a family prefix, or a member of a family (for route config)."""
    return any(s.type == name or s.accepts(name) for s in CONTRACTS)


def contract_for(event_type: str, version: int | None = None) -> ContractSpec:
    """The spec of ``event_type``: its newest version unless ``version`` is given."""
    matches = _versions(event_type)
    if version is not None:
        matches = tuple(spec for spec in matches if spec.version == version)
    if not matches:
        known = "" if version is None else f" version {version}"
        raise ContractError(f"unknown contract {event_type!r}{known}", "type")
    return matches[-1]
