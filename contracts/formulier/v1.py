"""``nl.gemeente.formulier.ingediend`` version 1: a citizen's or company's form submission.

Shaped after what Open Formulieren's generic JSON registration sends: the submission's id and
public reference, the form, the language, who was authenticated and how, the answers, the
attachments (by reference) and the payment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import (
    AfterValidator,
    AnyUrl,
    AwareDatetime,
    Field,
    HttpUrl,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.base import Contract, Frozen
from contracts.identifiers import Bsn, KvkNumber, ascii_text
from contracts.personal_data import PersonalData, PersonalDataKind

__all__ = [
    "Attachment",
    "Authentication",
    "AuthenticationMethod",
    "Form",
    "FormulierIngediend",
    "Payment",
]

INLINE_LIMIT_BYTES = 32 * 1024  # bigger files travel by reference, never inside an event


class Form(Frozen):
    id: str = Field(min_length=1, max_length=100, description="The form's stable id (slug).")
    name: str = Field(min_length=1, max_length=200, description="The form's display name.")
    url: HttpUrl | None = Field(None, description="Where the form is published.")


class AuthenticationMethod(StrEnum):
    DIGID = "digid"
    EHERKENNING = "eherkenning"
    EIDAS = "eidas"
    NONE = "none"


class Authentication(Frozen):
    """Who submitted: the method and the identifier it proved (personal data: payload only)."""

    method: AuthenticationMethod
    level_of_assurance: str | None = Field(
        None, max_length=200, description="As the login service named it, e.g. 'substantial'."
    )
    bsn: Annotated[Bsn | None, PersonalData(PersonalDataKind.BSN)] = Field(
        None, description="Burgerservicenummer, with DigiD."
    )
    kvk: Annotated[KvkNumber | None, PersonalData(PersonalDataKind.KVK)] = Field(
        None, description="KvK number, with eHerkenning."
    )
    pseudo_id: Annotated[str | None, PersonalData(PersonalDataKind.PSEUDONYM)] = Field(
        None, max_length=200, description="Pseudonym, with eIDAS."
    )
    acting_subject_id: Annotated[str | None, PersonalData(PersonalDataKind.IDENTIFIER)] = Field(
        None, max_length=200, description="Who acted on the subject's behalf (machtiging), if so."
    )
    mandate_services: list[str] = Field(
        default_factory=list, description="The services the mandate (machtiging) covers."
    )

    @model_validator(mode="after")
    def _identifier_fits_method(self) -> Authentication:
        required = {
            AuthenticationMethod.DIGID: "bsn",
            AuthenticationMethod.EHERKENNING: "kvk",
            AuthenticationMethod.EIDAS: "pseudo_id",
        }.get(self.method)
        if required is not None and getattr(self, required) is None:
            raise ValueError(f"method {self.method.value!r} needs {required!r}")
        if self.method is AuthenticationMethod.NONE and (self.bsn or self.kvk or self.pseudo_id):
            raise ValueError("method 'none' carries no bsn, kvk or pseudo_id")
        return self


class Attachment(Frozen):
    """A file the submitter uploaded, by reference; small files may travel inline."""

    url: AnyUrl = Field(description="Where the back office downloads the file.")
    name: Annotated[str, PersonalData(PersonalDataKind.CONTENT)] = Field(
        min_length=1, max_length=255, description="The file name the submitter gave it."
    )
    # \w is ASCII in the published (ECMA-262) pattern; Python's would take any letter.
    content_type: Annotated[str, AfterValidator(ascii_text)] = Field(
        pattern=r"^[\w.+-]+/[\w.+-]+$", description="MIME type."
    )
    size: int = Field(ge=0, description="Bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex digest of the content.")
    inline_base64: Annotated[str | None, PersonalData(PersonalDataKind.CONTENT)] = Field(
        None,
        max_length=(INLINE_LIMIT_BYTES + 2) // 3 * 4,
        description=f"The content itself, only for files up to {INLINE_LIMIT_BYTES} bytes.",
    )

    @field_validator("inline_base64")
    @classmethod
    def _inline_content_is_what_it_says(cls, text: str | None, info: ValidationInfo) -> str | None:
        """An inline file must be the file its ``size`` and ``sha256`` describe: a back office
        checking the digest would otherwise refuse what the hub accepted."""
        if text is None:
            return text
        try:
            content = base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ValueError("not valid base64") from exc
        size, sha256 = info.data.get("size"), info.data.get("sha256")
        if size is not None and len(content) != size:
            raise ValueError(f"decodes to {len(content)} bytes, not the size {size}")
        if sha256 is not None and hashlib.sha256(content).hexdigest() != sha256:
            raise ValueError("decodes to bytes whose SHA-256 is not the sha256 given")
        return text


class Payment(Frozen):
    required: bool
    completed: bool = False
    amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2, description="EUR.")
    public_order_ids: list[str] = Field(default_factory=list)
    provider_payment_ids: list[str] = Field(default_factory=list)


class FormulierIngediend(Contract):
    """A submitted form, as the e-forms system hands it over."""

    submission_id: UUID = Field(description="Id of the submission in the e-forms system.")
    reference: str = Field(
        min_length=1, max_length=64, description="Public reference shown to the submitter."
    )
    form: Form
    language: str = Field("nl", pattern=r"^[a-z]{2}$", description="ISO 639-1 language code.")
    submitted_at: AwareDatetime = Field(description="When the submitter pressed send.")
    authentication: Authentication
    # Not declared personal data as a whole: routes may test an answer (a category), and the
    # hub cannot know which keys are personal. Redaction blanks personal keys and BSNs in it.
    values: dict[str, JsonValue] = Field(
        default_factory=dict, description="The answers, by field key."
    )
    attachments: list[Attachment] = Field(default_factory=list)
    payment: Payment | None = None

    def event_subject(self) -> str:
        return str(self.submission_id)


EXAMPLE = {
    "submission_id": "5f0c6d1e-3d0e-4c52-9a57-0c4a2b1e7f10",
    "reference": "OF-7TZ2QX",
    "form": {
        "id": "parkeervergunning",
        "name": "Parkeervergunning aanvragen",
        "url": "https://formulieren.amsterdam.example/parkeervergunning",
    },
    "language": "nl",
    "submitted_at": "2026-11-29T10:15:00+01:00",
    "authentication": {
        "method": "digid",
        "level_of_assurance": "substantial",
        "bsn": "999993653",
    },
    "values": {"naam": "Jan de Vries", "kenteken": "AB-123-C", "adres": "Dam 1, Amsterdam"},
    "attachments": [
        {
            "url": "https://formulieren.amsterdam.example/api/v2/attachments/81f3",
            "name": "kentekenbewijs.pdf",
            "content_type": "application/pdf",
            "size": 183204,
            "sha256": "9f2c0a4e5b1d3c7e8f6a2b4d1c0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e",
        }
    ],
    "payment": {
        "required": True,
        "completed": True,
        "amount": "45.00",
        "public_order_ids": ["P-1"],
    },
}
