"""Settings of the ``stuf-zds`` sink (a destination's ``settings:`` in the hub config)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from connectors.sdk import HeaderAuth, MutualTls, NoAuth, SecretName

__all__ = ["BasicAuth", "Endpoints", "Party", "StufZdsConfig"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_Model):
    """A StUF ``Systeem`` (stuf0301.xsd): who sends (zender) or receives (ontvanger) a message.
    The zaaksysteem checks both against what it was told to expect."""

    organisatie: str | None = Field(
        None, min_length=1, max_length=200, description="StUF organisatie, e.g. a gemeentecode."
    )
    applicatie: str = Field(min_length=1, max_length=50, description="StUF applicatie.")
    administratie: str | None = Field(
        None, min_length=1, max_length=50, description="StUF administratie, when agreed."
    )
    gebruiker: str | None = Field(
        None, min_length=1, max_length=100, description="StUF gebruiker, when agreed."
    )


class Endpoints(_Model):
    """Where the zaaksysteem's StUF-ZDS services are. Many offer one URL for all of them;
    ``url`` is used for each service that is not given its own."""

    url: HttpUrl = Field(description="The URL of every service not given its own below.")
    ontvang_asynchroon: HttpUrl | None = Field(
        None, description="OntvangAsynchroon: creeerZaak_Lk01 and voegZaakdocumentToe_Lk01."
    )
    vrije_berichten: HttpUrl | None = Field(
        None,
        description="VrijeBerichten: genereerZaakIdentificatie_Di02 and "
        "genereerDocumentIdentificatie_Di02.",
    )

    @field_validator("url", "ontvang_asynchroon", "vrije_berichten")
    @classmethod
    def _no_credentials(cls, url: HttpUrl | None) -> HttpUrl | None:
        if url is not None and (url.username or url.password):
            raise ValueError("no user or password in the url; use auth")
        return url


class BasicAuth(_Model):
    """HTTP Basic authentication (RFC 7617): a user name and the environment variable that
    holds the password, read per request."""

    type: Literal["basic"] = "basic"
    username: str = Field(min_length=1, max_length=200, description="User name.")
    password_env: SecretName = Field(description="Environment variable holding the password.")

    @field_validator("username")
    @classmethod
    def _no_colon(cls, username: str) -> str:
        if ":" in username:
            raise ValueError("a Basic user name cannot contain ':'")
        return username


Auth = Annotated[NoAuth | HeaderAuth | BasicAuth, Field(discriminator="type")]
Vertrouwelijkheid = Literal[
    "ZEER GEHEIM",
    "GEHEIM",
    "CONFIDENTIEEL",
    "VERTROUWELIJK",
    "ZAAKVERTROUWELIJK",
    "INTERN",
    "BEPERKT OPENBAAR",
    "OPENBAAR",
]


class StufZdsConfig(_Model):
    """Where the zaaksysteem is, how the hub presents itself (stuurgegevens, client certificate,
    credentials), which zaaktype and documenttypes a submission gets, and who makes the
    identificaties."""

    endpoints: Endpoints = Field(description="The StUF-ZDS service URLs.")
    zender: Party = Field(description="The hub as StUF zender, as the zaaksysteem knows it.")
    ontvanger: Party = Field(description="The zaaksysteem as StUF ontvanger.")
    tls: MutualTls | None = Field(
        None, description="Client certificate and key (PEM) for mutual TLS, e.g. PKIoverheid."
    )
    auth: Auth = Field(
        default_factory=NoAuth,
        description="HTTP authentication: none, header (a secret header value) or basic "
        "(username and password_env).",
    )
    zaaktype_code: str = Field(
        min_length=1, max_length=10, description="The zaaktype's code in the zaaksysteem."
    )
    zaaktype_omschrijving: str | None = Field(
        None, min_length=1, max_length=80, description="The zaaktype's omschrijving, if wanted."
    )
    documenttype: str = Field(
        min_length=1,
        max_length=80,
        description="dct.omschrijving of the document holding the submission's data.",
    )
    bijlage_documenttype: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="dct.omschrijving of each attachment's document; documenttype when unset.",
    )
    vertrouwelijkheid: Vertrouwelijkheid | None = Field(
        None,
        description="vertrouwelijkAanduiding of the documents; the zaaksysteem's default when "
        "unset.",
    )
    auteur: str = Field(
        "Knooppunt", min_length=1, max_length=200, description="auteur of each document."
    )
    identificaties: Literal["genereer", "hub"] = Field(
        "genereer",
        description="Who makes the zaak and document identificaties: 'genereer' asks the "
        "zaaksysteem (genereerZaakIdentificatie_Di02, genereerDocumentIdentificatie_Di02) and "
        "keeps them for the next attempt; 'hub' makes them from identificatie_prefix and the "
        "delivery's step key (ZDS 1.2 allows either), so even a replay without the earlier "
        "attempts' progress makes nothing twice.",
    )
    identificatie_prefix: str = Field(
        "KNP",
        pattern=r"^[A-Za-z0-9-]{1,8}$",
        description="With identificaties 'hub': the prefix before the 32 hex digits.",
    )
    already_exists_codes: tuple[
        Annotated[str, Field(min_length=1, max_length=7, pattern=r"^\S+$")], ...
    ] = Field(
        (),
        description="StUF foutcodes with which this zaaksysteem refuses a zaak or document "
        "whose identificatie it already has (StUF 3.01 defines none): such a refusal of a "
        "creeerZaak_Lk01 or voegZaakdocumentToe_Lk01 counts as done, since an earlier attempt "
        "made it.",
    )
    timeout_s: float = Field(30.0, gt=0, le=300, description="Per request, in seconds.")

    def service_url(self, service: Literal["ontvang_asynchroon", "vrije_berichten"]) -> str:
        """The URL of ``service``: its own, else ``endpoints.url``."""
        own = getattr(self.endpoints, service)
        return str(own or self.endpoints.url)
