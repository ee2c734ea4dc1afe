"""Settings of the ``zgw`` sink (a destination's ``settings:`` in the hub config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from connectors.sdk import ZgwJwtAuth

__all__ = ["ZgwConfig"]


class ZgwConfig(BaseModel):
    """Where the zaaksysteem's ZGW APIs are, which zaaktype a submission becomes, and how the
    hub authenticates (a ZGW JWT per tenant)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zaken_api: HttpUrl = Field(description="Base URL of the Zaken API 1.x (…/zaken/api/v1).")
    catalogi_api: HttpUrl = Field(
        description="Base URL of the Catalogi API 1.x (…/catalogi/api/v1)."
    )
    documenten_api: HttpUrl = Field(
        description="Base URL of the Documenten API 1.x (…/documenten/api/v1)."
    )
    auth: ZgwJwtAuth = Field(
        description="The ZGW JWT (HS256) the APIs expect: client_id and the environment "
        "variable holding its secret; one per tenant."
    )
    zaaktype: str = Field(
        min_length=1,
        max_length=50,
        description="The zaaktype's identificatie in the Catalogi API; the version in force "
        "today (status definitief) is used.",
    )
    catalogus: HttpUrl | None = Field(
        None, description="The catalogus the zaaktype is in, when identificatie is not unique."
    )
    informatieobjecttype: HttpUrl = Field(
        description="URL of the informatieobjecttype each attachment's document gets; the "
        "zaaktype must allow it."
    )
    verantwoordelijke_organisatie: str | None = Field(
        None,
        pattern=r"^[0-9]{9}$",
        description="RSIN of the organisation responsible for the zaak; the tenant's RSIN when "
        "not set.",
    )
    identificatie_prefix: str = Field(
        "KNP-",
        pattern=r"^[A-Za-z0-9-]{0,8}$",
        description="Prefix of the identificatie the hub gives each zaak and document (the "
        "rest is the delivery's step key, 32 hex digits): how a redelivery finds them.",
    )
    submission_document: bool = Field(
        True,
        description="Also keep the submission itself as a document of the zaak: its data as "
        "JSON (inzending-<reference>.json; attachments named with size and sha256, their "
        "content in their own documents), as Open Formulieren keeps its submission report.",
    )
    bestandsdelen_above_bytes: int | None = Field(
        None,
        ge=1,
        le=1 << 40,
        description="Send a file larger than this many bytes in bestandsdelen (Documenten API "
        "1.1+: the document created without inhoud and locked, each part PUT as "
        "multipart/form-data, then unlocked) instead of inline as base64, which holds the "
        "file and 4/3 of it in memory at once; none: every file inline (Documenten API 1.0).",
    )
    auteur: str = Field(
        "Knooppunt", min_length=1, max_length=200, description="auteur of each document."
    )
    vertrouwelijkheidaanduiding: str | None = Field(
        None,
        pattern=r"^(openbaar|beperkt_openbaar|intern|zaakvertrouwelijk|vertrouwelijk|"
        r"confidentieel|geheim|zeer_geheim)$",
        description="vertrouwelijkheidaanduiding of zaak and documents; the zaaktype's and "
        "informatieobjecttype's default when not set.",
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="Per request, in seconds.")
