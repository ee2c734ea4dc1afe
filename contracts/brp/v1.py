"""``nl.gemeente.brp.persoon-gewijzigd`` version 1: a change to a person a tenant follows.

Informatie-arm: which categories changed and since when, not the new values; a back office that
needs them asks the BRP (Haal Centraal) with the BSN, which travels in the payload only.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field

from contracts.base import Contract
from contracts.identifiers import Bsn
from contracts.personal_data import PersonalData, PersonalDataKind

__all__ = ["Categorie", "PersoonGewijzigd"]


class Categorie(StrEnum):
    NAAM = "naam"
    GEBOORTE = "geboorte"
    NATIONALITEIT = "nationaliteit"
    OVERLIJDEN = "overlijden"
    VERBLIJFPLAATS = "verblijfplaats"
    VERBLIJFSTITEL = "verblijfstitel"
    PARTNERSCHAP = "partnerschap"
    OUDERS = "ouders"
    KINDEREN = "kinderen"
    GEZAG = "gezag"


class PersoonGewijzigd(Contract):
    wijziging_id: UUID = Field(description="Id of this change; the event's subject.")
    bsn: Annotated[Bsn, PersonalData(PersonalDataKind.BSN)] = Field(
        description="The person (payload only, never in headers or keys)."
    )
    gewijzigd: list[Categorie] = Field(min_length=1, description="The categories that changed.")
    ingangsdatum: date | None = Field(None, description="Date the change takes effect.")
    geregistreerd_op: AwareDatetime = Field(description="When the BRP registered the change.")
    volgindicatie_id: str | None = Field(
        None, max_length=100, description="The tenant's follow registration that matched."
    )

    def event_subject(self) -> str:
        return str(self.wijziging_id)


EXAMPLE = {
    "wijziging_id": "2b9c4e1a-6d7f-4a8b-9c0d-1e2f3a4b5c6d",
    "bsn": "999993653",
    "gewijzigd": ["verblijfplaats"],
    "ingangsdatum": "2026-12-01",
    "geregistreerd_op": "2026-11-29T08:00:00+01:00",
    "volgindicatie_id": "VI-0363-000172",
}
