"""``nl.gemeente.formulier.ingediend`` version 2: the authentication context as one structured
object, as Open Formulieren's ``auth_context`` has it.

Why a v2: in v1 the identifiers are loose fields (``bsn``, ``kvk``, ``pseudo_id``,
``acting_subject_id``) and the level of assurance is free text ("substantial", "midden"). Back
offices must know whom a submission is about (the legal subject), who acted (the acting subject,
with a mandate) and how strongly that was proven, as the standard's URN. That changes the shape
of ``authentication``: a breaking change, so a new major with an upcaster from v1.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from contracts.base import Frozen
from contracts.errors import ContractError
from contracts.formulier import v1
from contracts.identifiers import is_ascii_digits, is_valid_bsn
from contracts.personal_data import PersonalData, PersonalDataKind

__all__ = ["AuthenticationContext", "FormulierIngediend", "Identifier", "upcast_from_v1"]

AuthenticationMethod = v1.AuthenticationMethod

# The levels of assurance as the login services name them, by method (v1 free text -> URN).
LOA_URNS: dict[str, dict[str, str]] = {
    "digid": {
        "basis": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
        "midden": "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "substantieel": "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
        "substantial": "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
        "hoog": "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
        "high": "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    },
    "eherkenning": {
        level: f"urn:etoegang:core:assurance-class:{level}"
        for level in ("loa1", "loa2", "loa2plus", "loa3", "loa4")
    },
    "eidas": {
        level: f"http://eidas.europa.eu/LoA/{level}" for level in ("low", "substantial", "high")
    },
}


class IdentifierType(StrEnum):
    BSN = "bsn"
    KVK = "kvk"
    RSIN = "rsin"
    PSEUDO = "pseudo"


class Identifier(Frozen):
    type: IdentifierType
    value: Annotated[str, PersonalData(PersonalDataKind.IDENTIFIER)] = Field(
        min_length=1, max_length=200
    )

    @model_validator(mode="after")
    def _value_fits_type(self) -> Identifier:
        if self.type is IdentifierType.BSN and not is_valid_bsn(self.value):
            raise ValueError("not a valid BSN: it fails the 11-proef")
        if self.type is IdentifierType.KVK and not is_ascii_digits(self.value, 8):
            raise ValueError("a KvK number is exactly 8 digits (0-9)")
        if self.type is IdentifierType.RSIN and not is_ascii_digits(self.value, 9):
            raise ValueError("an RSIN is exactly 9 digits (0-9)")
        return self


class Mandate(Frozen):
    services: list[str] = Field(default_factory=list, description="Services the mandate covers.")


class AuthenticationContext(Frozen):
    method: AuthenticationMethod
    level_of_assurance: str | None = Field(
        None, pattern=r"^(urn:|https?://)\S+$", description="The login service's LoA URN/URI."
    )
    legal_subject: Identifier | None = Field(None, description="Whom the submission is about.")
    acting_subject: Identifier | None = Field(None, description="Who acted for them, if not them.")
    mandate: Mandate | None = None

    @model_validator(mode="after")
    def _subject_fits_method(self) -> AuthenticationContext:
        allowed = {
            AuthenticationMethod.DIGID: {IdentifierType.BSN},
            AuthenticationMethod.EHERKENNING: {IdentifierType.KVK, IdentifierType.RSIN},
            AuthenticationMethod.EIDAS: {IdentifierType.PSEUDO, IdentifierType.BSN},
        }.get(self.method)
        if allowed is None:
            if self.legal_subject or self.acting_subject:
                raise ValueError("method 'none' carries no legal_subject or acting_subject")
        elif self.legal_subject is None or self.legal_subject.type not in allowed:
            names = " or ".join(sorted(t.value for t in allowed))
            raise ValueError(f"method {self.method.value!r} needs a legal_subject of type {names}")
        return self


class FormulierIngediend(v1.FormulierIngediend):
    """As v1, with ``authentication`` the structured context above."""

    model_config = ConfigDict(title="FormulierIngediendV2")  # v1 keeps the plain name

    authentication: AuthenticationContext  # type: ignore[assignment]


def _identifier(kind: IdentifierType, value: str | None) -> dict[str, str] | None:
    return {"type": kind.value, "value": value} if value else None  # "" names no one


def upcast_from_v1(payload: dict[str, Any]) -> dict[str, Any]:
    """A valid v1 payload as v2. Pure; an unknown v1 level of assurance becomes `None`.

    The legal subject is the identifier the method proves: with eHerkenning the company (its
    KvK number; a BSN beside it is the person who logged in, not whom the submission is about),
    with DigiD the BSN, with eIDAS the BSN where known, else the pseudonym. An empty identifier
    names no one.

    Every valid v1 payload becomes a valid v2 payload that validation leaves unchanged, or is
    refused with a ContractError naming the field when v2 cannot say it: eIDAS with an empty
    pseudonym and no BSN, or method `none` with an acting subject (a property test,
    `tests/unit/test_upcasters.py`, holds it to that).
    """
    auth = payload["authentication"]
    method = auth["method"]
    bsn, kvk, pseudo = auth.get("bsn"), auth.get("kvk"), auth.get("pseudo_id")
    legal = {
        AuthenticationMethod.DIGID: _identifier(IdentifierType.BSN, bsn),
        AuthenticationMethod.EHERKENNING: _identifier(IdentifierType.KVK, kvk),
        AuthenticationMethod.EIDAS: _identifier(IdentifierType.BSN, bsn)
        or _identifier(IdentifierType.PSEUDO, pseudo),
    }.get(method)
    if legal is None and method != AuthenticationMethod.NONE:
        raise ContractError(
            f"method {method!r} without an identifier: v2 needs a legal subject",
            "authentication",
        )
    acting_id = auth.get("acting_subject_id")
    if acting_id and method == AuthenticationMethod.NONE:
        raise ContractError(
            "method 'none' with an acting subject: v2 has no one it acts for",
            "authentication.acting_subject_id",
        )
    acting_type = (
        IdentifierType.BSN if acting_id and is_valid_bsn(acting_id) else IdentifierType.PSEUDO
    )
    level = auth.get("level_of_assurance")
    services = auth.get("mandate_services") or []
    context = {
        "method": method,
        "level_of_assurance": LOA_URNS.get(method, {}).get((level or "").lower()),
        "legal_subject": legal,
        "acting_subject": _identifier(acting_type, acting_id),
        "mandate": {"services": services} if services else None,
    }
    return {**payload, "authentication": context}


EXAMPLE = upcast_from_v1(v1.EXAMPLE)
