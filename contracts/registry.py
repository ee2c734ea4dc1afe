"""The one explicit registry of every contract type and version. No import magic: add a line."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from contracts.formulier import v1 as formulier_v1
from hub.errors import ContractError

__all__ = ["CONTRACTS", "ContractSpec", "contract_for", "contract_types"]


@dataclass(frozen=True)
class ContractSpec:
    """One version of one event type, and the topic its events travel on."""

    type: str
    version: int
    model: builtins.type[BaseModel]  # `type` alone would mean the field above
    summary: str

    @property
    def dataschema(self) -> str:
        return f"urn:nld:knooppunt:schema:{self.type}:v{self.version}"

    def validate(self, payload: object) -> BaseModel:
        """The payload as this contract's model; ContractError naming the first bad field."""
        try:
            return self.model.model_validate(payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "data"
            raise ContractError(first["msg"], field) from exc


CONTRACTS: tuple[ContractSpec, ...] = (
    ContractSpec(
        type="nl.gemeente.formulier.ingediend",
        version=1,
        model=formulier_v1.FormulierIngediend,
        summary="A citizen's or company's form submission (e-formulier).",
    ),
)


def contract_types() -> list[str]:
    return sorted({spec.type for spec in CONTRACTS})


def contract_for(event_type: str, version: int | None = None) -> ContractSpec:
    """The spec of ``event_type`` (its newest version unless ``version`` is given)."""
    matches = [spec for spec in CONTRACTS if spec.type == event_type]
    if version is not None:
        matches = [spec for spec in matches if spec.version == version]
    if not matches:
        raise ContractError(f"unknown contract {event_type!r} (version {version})", "type")
    return max(matches, key=lambda spec: spec.version)
