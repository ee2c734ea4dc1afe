"""The Notificaties API 1.0's resources as it publishes them (VNG-Realisatie/notificaties-api,
``src/openapi.yaml``): names, required members, lengths and formats as there, camelCase on the
wire. ``PatchedAbonnement`` (all optional) is the body of a partial update, as Open Notificaties
documents it; the 1.0 document names ``Abonnement`` there, whose required members a partial
update cannot have.

Members are never nullable, so the schemas read the same in OpenAPI 3.0 (the Notificaties API's
version) and 3.1 (FastAPI's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

__all__ = [
    "Abonnement",
    "CloudEvent",
    "FieldValidationError",
    "FilterGroup",
    "Fout",
    "Kanaal",
    "Message",
    "PatchedAbonnement",
    "ValidatieFout",
]

# Open Notificaties reads a time without an offset in its TIME_ZONE (Europe/Amsterdam).
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
_URL_PART = (
    "URL-referentie naar dit object. Dit is de unieke identificatie en locatie van dit object."
)


def _absolute_url(value: str) -> str:
    """An absolute http(s) URL without spaces: what a callback or link must be."""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise ValueError("an absolute http or https URL")
    return value


def _uri(value: str) -> str:
    """A URI with a scheme (RFC 3986): ``format: uri``."""
    if not urlsplit(value).scheme or any(c.isspace() for c in value):
        raise ValueError("an absolute URI, with a scheme")
    return value


HttpUrl = Annotated[str, AfterValidator(_absolute_url)]
Uri = Annotated[str, AfterValidator(_uri)]
Kenmerk = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        title="kenmerk",
        description="Een waarde behorende bij de sleutel.",
    ),
]
_URI: JsonDict = {"format": "uri"}


class _Resource(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Kanaal(_Resource):
    url: str = Field(
        "",
        min_length=1,
        max_length=1000,
        description=_URL_PART,
        json_schema_extra={**_URI, "readOnly": True},
    )
    naam: str = Field(
        min_length=1,
        max_length=50,
        description='Naam van het KANAAL (ook wel "Exchange" genoemd) dat de bron '
        "vertegenwoordigd.",
    )
    documentatie_link: Annotated[str, AfterValidator(lambda v: v and _absolute_url(v))] = Field(
        "",
        alias="documentatieLink",
        max_length=200,
        description="URL naar documentatie.",
        json_schema_extra=_URI,
    )
    filters: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        description="Lijst van mogelijke filter kenmerken van een KANAAL. Deze filter kenmerken "
        "kunnen worden gebruikt bij het aanmaken van een ABONNEMENT.",
    )


class FilterGroup(_Resource):
    naam: str = Field(
        min_length=1,
        description="De naam van het KANAAL (`KANAAL.naam`) waarop een abonnement is of wordt "
        "genomen.",
    )
    filters: dict[str, Kenmerk] = Field(
        default_factory=dict,
        description="Map van kenmerken (sleutel/waarde) waarop notificaties gefilterd worden. "
        "Alleen "
        "notificaties waarvan de kenmerken voldoen aan het filter worden doorgestuurd naar de "
        "afnemer van het ABONNEMENT.",
    )


_CALLBACK = "De URL waar notificaties naar toe gestuurd dienen te worden."
_AUTH = (
    'Autorisatie header invulling voor het vesturen naar de "Callback URL". Voorbeeld: Bearer '
    "a4daa31..."
)
_KANALEN = "Een lijst van kanalen en filters waarop het ABONNEMENT wordt afgenomen."


class Abonnement(_Resource):
    """An abonnement as created or replaced; answered without ``auth`` (a secret: write only)."""

    url: str = Field(
        "",
        min_length=1,
        max_length=1000,
        description=_URL_PART,
        json_schema_extra={**_URI, "readOnly": True},
    )
    callback_url: HttpUrl = Field(
        alias="callbackUrl",
        min_length=1,
        max_length=200,
        description=_CALLBACK,
        json_schema_extra=_URI,
    )
    auth: str = Field(
        min_length=1, max_length=1000, description=_AUTH, json_schema_extra={"writeOnly": True}
    )
    kanalen: list[FilterGroup] = Field(description=_KANALEN)


def _no_defaults(schema: JsonDict) -> None:
    members = schema.get("properties", {})
    for member in members.values() if isinstance(members, dict) else ():
        if isinstance(member, dict):
            member.pop("default", None)


class PatchedAbonnement(_Resource):
    """A partial update: only the members given change (``model_fields_set``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, json_schema_extra=_no_defaults)

    callback_url: HttpUrl = Field(
        "",
        alias="callbackUrl",
        min_length=1,
        max_length=200,
        description=_CALLBACK,
        json_schema_extra=_URI,
    )
    auth: str = Field(
        "", min_length=1, max_length=1000, description=_AUTH, json_schema_extra={"writeOnly": True}
    )
    kanalen: list[FilterGroup] = Field(default_factory=list, description=_KANALEN)


class Message(_Resource):
    """A notificatie, as published and as answered."""

    kanaal: str = Field(
        min_length=1,
        max_length=50,
        description="De naam van het kanaal (`KANAAL.naam`) waar het bericht op moet worden "
        "gepubliceerd.",
    )
    hoofd_object: Uri = Field(
        alias="hoofdObject",
        min_length=1,
        max_length=1000,
        description="URL-referentie naar het hoofd object van de publicerende API die betrekking "
        "heeft op de `resource`.",
        json_schema_extra=_URI,
    )
    resource: str = Field(
        min_length=1, max_length=100, description="De resourcenaam waar de notificatie over gaat."
    )
    resource_url: Uri = Field(
        alias="resourceUrl",
        min_length=1,
        max_length=1000,
        description="URL-referentie naar de `resource` van de publicerende API.",
        json_schema_extra=_URI,
    )
    actie: str = Field(
        min_length=1,
        max_length=100,
        description="De actie die door de publicerende API is gedaan. De publicerende API "
        "specificeert de toegestane acties.",
    )
    aanmaakdatum: datetime = Field(
        description="Datum en tijd waarop de actie heeft plaatsgevonden."
    )
    kenmerken: dict[str, Kenmerk] = Field(
        default_factory=dict,
        description="Mapping van kenmerken (sleutel/waarde) van de notificatie. De publicerende "
        "API specificeert de toegestane kenmerken.",
    )

    @field_validator("aanmaakdatum")
    @classmethod
    def _with_offset(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TIME)


class CloudEvent(_Resource):
    """A CloudEvent (v1.0, JSON format) as Open Notificaties' ``/cloudevents`` takes it."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_no_defaults)

    id: str = Field(min_length=1, max_length=255, description="event id")
    source: str = Field(
        min_length=1,
        max_length=255,
        description="event source",
        json_schema_extra={"format": "uri-reference"},
    )
    specversion: str = Field(
        pattern=r"^1\.0$", max_length=50, description="cloudevent spec version used by the event"
    )
    type: str = Field(
        min_length=1,
        max_length=255,
        description="event type on which can be subscribed. Example: "
        "nl.overheid.zaken.zaak.created",
    )
    datacontenttype: str = Field("application/json", max_length=255)
    dataschema: str = Field("", max_length=255, json_schema_extra=_URI)
    subject: str = Field("", max_length=255, description="the events subject")
    time: datetime = Field(datetime.min, description="the timestamp of when the event happened")
    data: Any = Field(None, description="the event's data (JSON)")


class FieldValidationError(BaseModel):
    """Formaat van validatiefouten."""

    name: str = Field(description="Naam van het veld met ongeldige gegevens")
    code: str = Field(description="Systeemcode die het type fout aangeeft")
    reason: str = Field(description="Uitleg wat er precies fout is met de gegevens")


class Fout(BaseModel):
    """Formaat van HTTP 4xx en 5xx fouten."""

    type: str = Field("", description="URI referentie naar het type fout, bedoeld voor developers")
    code: str = Field(description="Systeemcode die het type fout aangeeft")
    title: str = Field(description="Generieke titel voor het type fout")
    status: int = Field(description="De HTTP status code")
    detail: str = Field(description="Extra informatie bij de fout, indien beschikbaar")
    instance: str = Field(
        description="URI met referentie naar dit specifiek voorkomen van de fout."
    )


class ValidatieFout(Fout):
    """Formaat van HTTP 400 fouten: welke velden ongeldig zijn."""

    invalid_params: list[FieldValidationError] = Field(alias="invalidParams")
