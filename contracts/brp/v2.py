"""``nl.gemeente.brp.persoon-gewijzigd`` version 2: a person a tenant follows changed in the BRP.

Why a v2: the Haal Centraal BRP Update API (``GET /wijzigingen?vanaf=<date>``) says *which*
followed persons changed on or after a date, not what changed nor when within the day; v1
required the categories and a registration time no such source knows. v2 carries what is known
for certain: the person and the day of their last change that this event reports. A back office
reads the person again (BRP bevragen) for the new values: the event is informatie-arm.

The payload is a function of (tenant, person, day) only, so a poll repeated after a crash
publishes the same event, which the router recognises as one (hub.routing.duplicates).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import ConfigDict, Field

from contracts.base import Contract
from contracts.brp.v1 import Categorie
from contracts.identifiers import Bsn
from contracts.personal_data import PersonalData, PersonalDataKind

__all__ = ["PersoonGewijzigd", "upcast_from_v1"]


class PersoonGewijzigd(Contract):
    model_config = ConfigDict(title="PersoonGewijzigdV2")  # v1 keeps the plain name (AsyncAPI)

    wijziging_id: UUID = Field(description="Id of this change report; the event's subject.")
    bsn: Annotated[Bsn, PersonalData(PersonalDataKind.BSN)] = Field(
        description="The person (payload only, never in headers or keys)."
    )
    gewijzigd_op: date = Field(
        description="The day (Dutch time) the BRP registered the last change this event reports."
    )
    gewijzigd: list[Categorie] | None = Field(
        None, min_length=1, description="The categories that changed, when the source says."
    )
    ingangsdatum: date | None = Field(None, description="Date the change takes effect.")
    volgindicatie_id: str | None = Field(
        None, max_length=100, description="The tenant's follow registration that matched."
    )

    def event_subject(self) -> str:
        return str(self.wijziging_id)


def upcast_from_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """A valid v1 payload as v2: the day of ``geregistreerd_op`` (in its own offset) becomes
    ``gewijzigd_op``; every other v1 field keeps its name and value. Pure."""
    registered = str(payload["geregistreerd_op"])
    upcast = {key: value for key, value in payload.items() if key != "geregistreerd_op"}
    upcast["gewijzigd_op"] = registered[:10]  # RFC 3339: the date part comes first
    return upcast


EXAMPLE = {
    "wijziging_id": "5f0c8a2e-3d1b-5c4a-9e8f-7a6b5c4d3e2f",
    "bsn": "999993653",
    "gewijzigd_op": "2026-11-28",
}
