"""``nl.gemeente.bericht.verzoek-aangemaakt`` version 1: a message to send to a citizen.

A notification sink (NotifyNL, e-mail) renders ``template_id`` with ``personalisatie`` and sends
it over ``kanaal`` to the recipient.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field, model_validator

from contracts.base import Contract, Frozen
from contracts.identifiers import Bsn
from contracts.personal_data import PersonalData, PersonalDataKind

__all__ = ["BerichtVerzoekAangemaakt", "Kanaal", "Ontvanger"]


class Kanaal(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    BRIEF = "brief"
    BERICHTENBOX = "berichtenbox"


class Ontvanger(Frozen):
    """How to reach the recipient: a BSN (the sink looks up the address) or an address."""

    bsn: Annotated[Bsn | None, PersonalData(PersonalDataKind.BSN)] = None
    email: Annotated[str | None, PersonalData(PersonalDataKind.EMAIL)] = Field(
        None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254
    )
    telefoon: Annotated[str | None, PersonalData(PersonalDataKind.PHONE)] = Field(
        None, pattern=r"^\+?[0-9 ]{8,20}$"
    )

    @model_validator(mode="after")
    def _reachable(self) -> Ontvanger:
        if not (self.bsn or self.email or self.telefoon):
            raise ValueError("give at least one of bsn, email or telefoon")
        return self


class BerichtVerzoekAangemaakt(Contract):
    verzoek_id: UUID = Field(description="Id of this request; the event's subject.")
    kanaal: Kanaal
    template_id: str = Field(min_length=1, max_length=100)
    personalisatie: Annotated[
        dict[str, str | int | float | bool], PersonalData(PersonalDataKind.CONTENT)
    ] = Field(default_factory=dict, description="The template's values: about the recipient.")
    ontvanger: Ontvanger
    referentie: str | None = Field(
        None, max_length=500, description="What it is about: a zaak URL or a public reference."
    )

    @model_validator(mode="after")
    def _channel_has_an_address(self) -> BerichtVerzoekAangemaakt:
        needs = {Kanaal.EMAIL: "email", Kanaal.SMS: "telefoon"}.get(self.kanaal)
        if needs and getattr(self.ontvanger, needs) is None and self.ontvanger.bsn is None:
            raise ValueError(f"kanaal {self.kanaal.value!r} needs ontvanger.{needs} or a bsn")
        return self

    def event_subject(self) -> str:
        return str(self.verzoek_id)


EXAMPLE = {
    "verzoek_id": "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "kanaal": "email",
    "template_id": "ontvangstbevestiging-parkeervergunning",
    "personalisatie": {"naam": "Jan de Vries", "referentie": "OF-7TZ2QX"},
    "ontvanger": {"bsn": "999993653", "email": "jan.devries@example.nl"},
    "referentie": "OF-7TZ2QX",
}
