"""ZGW notifications (Notificaties API), version 1: ``nl.overheid.<kanaal>.<resource>.<actie>``.

The payload is the notification exactly as the Notificaties API carries it (field names as in
that API). The type follows Open Notificaties' own conversion to CloudEvents
(``nl.overheid.zaken.status.create``), so subscribers filtering on its types keep working.
All event types of one kanaal share one topic (``nl.overheid.zaken.v1``) and are keyed by the
hoofdObject, so a zaak's events stay in order (a status never overtakes the zaak's creation).
"""

from __future__ import annotations

from pydantic import AnyUrl, AwareDatetime, ConfigDict, Field

from contracts.base import Contract

__all__ = ["KANALEN", "ZgwNotificatie"]

# The kanalen of the ZGW APIs (Zaken, Documenten, Besluiten, Catalogi, Autorisaties) and Objecten.
KANALEN = (
    "zaken",
    "documenten",
    "besluiten",
    "zaaktypen",
    "informatieobjecttypen",
    "besluittypen",
    "autorisaties",
    "objecten",
)


class ZgwNotificatie(Contract):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    kanaal: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,49}$", description="KANAAL.naam.")
    hoofd_object: AnyUrl = Field(alias="hoofdObject", description="URL of the main object.")
    resource: str = Field(pattern=r"^[a-z][a-zA-Z0-9_]{0,99}$", description="Resource name.")
    resource_url: AnyUrl = Field(alias="resourceUrl", description="URL of the changed resource.")
    actie: str = Field(pattern=r"^[a-z][a-z_]{0,99}$", description="create, update, destroy...")
    aanmaakdatum: AwareDatetime
    kenmerken: dict[str, str] = Field(
        default_factory=dict, description="Kenmerken of the kanaal, e.g. bronorganisatie, zaaktype."
    )

    def event_subject(self) -> str:
        """The resource's id, the last segment of its URL (as Open Notificaties does)."""
        return str(self.resource_url).rstrip("/").rsplit("/", 1)[-1]

    def ordering_key(self) -> str:
        return str(self.hoofd_object).rstrip("/").rsplit("/", 1)[-1]

    def event_type_suffix(self) -> str:
        return f"{self.resource}.{self.actie}"

    def family_member(self) -> str:
        return self.kanaal


ZAAK = "https://openzaak.amsterdam.example/zaken/api/v1/zaken/1f6a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
EXAMPLE = {
    "kanaal": "zaken",
    "hoofdObject": ZAAK,
    "resource": "status",
    "resourceUrl": "https://openzaak.amsterdam.example/zaken/api/v1/statussen/"
    "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
    "actie": "create",
    "aanmaakdatum": "2026-11-29T10:20:00+01:00",
    "kenmerken": {
        "bronorganisatie": "002564440",
        "zaaktype": "https://openzaak.amsterdam.example/catalogi/api/v1/zaaktypen/"
        "0c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f",
        "vertrouwelijkheidaanduiding": "openbaar",
    },
}
