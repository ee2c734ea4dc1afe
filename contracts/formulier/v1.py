"""``nl.gemeente.formulier.ingediend`` version 1: a citizen's or company's form submission."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    JsonValue,
    model_validator,
)

from contracts.identifiers import Bsn, KvkNumber

__all__ = ["Authentication", "AuthenticationMethod", "Form", "FormulierIngediend"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Form(_Frozen):
    id: str = Field(min_length=1, max_length=100, description="The form's stable id (slug).")
    name: str = Field(min_length=1, max_length=200, description="The form's display name.")
    url: HttpUrl | None = Field(None, description="Where the form is published.")


class AuthenticationMethod(StrEnum):
    DIGID = "digid"
    EHERKENNING = "eherkenning"
    EIDAS = "eidas"
    NONE = "none"


class Authentication(_Frozen):
    """Who submitted: the method and the identifier it proved (personal data: payload only)."""

    method: AuthenticationMethod
    level_of_assurance: str | None = Field(None, max_length=200)
    bsn: Bsn | None = Field(None, description="Burgerservicenummer, with DigiD.")
    kvk: KvkNumber | None = Field(None, description="KvK number, with eHerkenning.")
    pseudo_id: str | None = Field(None, max_length=200, description="Pseudonym, with eIDAS.")

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


class FormulierIngediend(_Frozen):
    """A submitted form, as the e-forms system hands it over."""

    submission_id: UUID = Field(description="Id of the submission in the e-forms system.")
    reference: str = Field(
        min_length=1, max_length=64, description="Public reference shown to the submitter."
    )
    form: Form
    language: str = Field("nl", pattern=r"^[a-z]{2}$", description="ISO 639-1 language code.")
    submitted_at: AwareDatetime = Field(description="When the submitter pressed send.")
    authentication: Authentication
    values: dict[str, JsonValue] = Field(
        default_factory=dict, description="The answers, by field key."
    )
