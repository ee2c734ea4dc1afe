"""``nl.gemeente.aflevering.geslaagd`` / ``.mislukt`` version 1: the outcome of a delivery.

One event per delivery of an event to a destination, so a form's public reference can be traced
to the zaak it became, or to why it did not.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, Field

from contracts.base import Contract

__all__ = ["AfleveringGeslaagd", "AfleveringMislukt"]


class _Aflevering(Contract):
    aflevering_id: UUID = Field(description="Id of this outcome; the event's subject.")
    event_id: str = Field(min_length=1, max_length=200, description="ce_id of the delivered event.")
    event_type: str = Field(min_length=1, max_length=200)
    event_source: str = Field(min_length=1, max_length=300)
    destination: str = Field(min_length=1, max_length=40, description="The tenant's destination.")
    public_reference: str | None = Field(None, max_length=64, description="e.g. the form's.")
    attempts: int = Field(ge=1)

    def event_subject(self) -> str:
        return str(self.aflevering_id)


class AfleveringGeslaagd(_Aflevering):
    delivered_at: AwareDatetime
    reference: str | None = Field(
        None, max_length=500, description="What the back office returned, e.g. the zaak URL."
    )


class AfleveringMislukt(_Aflevering):
    failed_at: AwareDatetime
    permanent: bool = Field(description="True: retrying will not help (e.g. HTTP 400).")
    error_class: str = Field(max_length=200)
    error_message: str = Field(max_length=2000)


_COMMON = {
    "aflevering_id": "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f",
    "event_id": "b6e6c0e5-f93b-511d-b645-64ef99eee849",
    "event_type": "nl.gemeente.formulier.ingediend",
    "event_source": "urn:nld:oin:00000001002564440000:systeem:open-formulieren",
    "destination": "zaaksysteem",
    "public_reference": "OF-7TZ2QX",
    "attempts": 1,
}
EXAMPLE_GESLAAGD = {
    **_COMMON,
    "delivered_at": "2026-11-29T10:15:02+01:00",
    "reference": "https://openzaak.amsterdam.example/zaken/api/v1/zaken/"
    "1f6a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
}
EXAMPLE_MISLUKT = {
    **_COMMON,
    "attempts": 7,
    "failed_at": "2026-11-30T10:15:00+01:00",
    "permanent": False,
    "error_class": "HTTPStatusError",
    "error_message": "503 Service Unavailable after 7 attempts",
}
