"""Keep personal data out of logs and shown payloads: pure functions.

``redact`` works on any value by key name and the BSN 11-proef; ``redact_declared`` blanks the
fields a contract declares personal data (contracts.personal_data), whatever their name;
``redact_shown`` is for a payload shown to an operator (``knooppunt dlq show``, the console),
whose free-form fields (a form's ``values``) hold whatever a citizen typed: it also blanks keys
that look like personal data in any spelling (``voornaam``, ``e-mailadres``, ``iban``...) and
e-mail addresses, phone numbers and IBANs inside any text. ``shown_payload`` puts them together
for an event's payload, and blanks every value of its contract's free-form fields: a name under
a key no list can foresee (``{"contact": {"wie": "Jan Jansen"}}``) is blanked too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from contracts.identifiers import passes_elfproef
from contracts.personal_data import path_segments, personal_data_paths
from contracts.registry import CONTRACTS, versions_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from contracts.personal_data import PersonalDataKind

__all__ = [
    "REDACTED",
    "SENSITIVE_KEYS",
    "declared_personal_data",
    "redact",
    "redact_declared",
    "redact_shown",
    "redact_text",
    "shown_payload",
]

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "bsn",
        "kvk",
        "kvk_number",
        "name",
        "naam",
        "voornamen",
        "geslachtsnaam",
        "address",
        "adres",
        "email",
        "telefoon",
        "phone",
        "pseudo_id",
        "authorization",
        "secret",
        "token",
    }
)
_NINE_DIGIT_RUN = re.compile(r"(?<!\d)\d{9}(?!\d)")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _redact_runs(text: str) -> str:
    return _NINE_DIGIT_RUN.sub(
        lambda m: REDACTED if passes_elfproef(m.group()) else m.group(), text
    )


def redact_text(text: str) -> str:
    """Replace every 9-digit run that passes the BSN 11-proef, except inside a UUID (RFC 9562
    text form): an event id such as ``...-0c999993653a`` holds such a run by chance (about 1
    in 300 ids), and redacting it made that event's log lines unfindable."""
    if "-" not in text:
        return _redact_runs(text)
    kept, last = [], 0
    for found in _UUID.finditer(text):
        kept += [_redact_runs(text[last : found.start()]), found.group()]
        last = found.end()
    kept.append(_redact_runs(text[last:]))
    return "".join(kept)


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of ``value``: sensitive keys blanked, BSN-like numbers replaced, at any depth."""
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return redact_text(str(value)) if len(str(value)) == 9 else value
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_declared(payload: Any, paths: Iterable[str]) -> Any:
    """A copy of ``payload`` with the value at each declared path (``ontvanger.email``,
    ``attachments[].name``) replaced, in every list item and mapping value the path crosses.
    A path the payload does not have, or a null, is left as it is."""
    for path in paths:
        payload = _redact_at(payload, path_segments(path))
    return payload


def _redact_at(value: Any, segments: tuple[str, ...]) -> Any:
    if not segments:
        return value if value is None else REDACTED
    head, rest = segments[0], segments[1:]
    if head == "[]":
        return [_redact_at(item, rest) for item in value] if isinstance(value, list) else value
    if not isinstance(value, dict):
        return value
    if head == "*":
        return {key: _redact_at(item, rest) for key, item in value.items()}
    if head not in value:
        return value
    return {**value, head: _redact_at(value[head], rest)}


def declared_personal_data(
    event_type: str, dataschema: str | None = None
) -> dict[str, PersonalDataKind]:
    """The personal-data paths of an event's contract: of the version ``dataschema`` names, else
    of every version of ``event_type`` (an event may come from a version this hub lacks)."""
    specs = [s for s in CONTRACTS if s.dataschema == dataschema and s.accepts(event_type)]
    return {
        path: kind
        for spec in specs or versions_of(event_type)
        for path, kind in personal_data_paths(spec).items()
    }


# Parts of a key (lowercase, without '-', '_', ' ' and '.') that name personal data, in Dutch
# and English: a form's own field names are free (voornaam, e-mailadres, telefoonnummer...).
PERSONAL_KEY_PARTS = (
    "naam", "name", "voorletter", "tussenvoegsel", "geslacht", "gender",
    "email", "mail", "telefoon", "phone", "mobiel", "mobile", "gsm",
    "adres", "address", "straat", "street", "huisnummer", "postcode", "zipcode", "woonplaats",
    "geboorte", "birth", "leeftijd", "nationaliteit",
    "iban", "rekening", "bankaccount",
    "bsn", "kvk", "burgerservice", "sofinummer", "paspoort", "passport", "rijbewijs",
)  # fmt: skip
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"']+\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}[ ]?[A-Z]{4}[ ]?(?:\d{4}[ ]?){2}\d{2,4}\b")
_PHONE = re.compile(r"(?<![\d+])(?:\+31|0031|0)[\s-]?\(?\d\)?(?:[\s-]?\d){8}(?!\d)")


def _personal_key(key: str) -> bool:
    flat = re.sub(r"[-_ .]", "", key.lower())
    return flat in SENSITIVE_KEYS or any(part in flat for part in PERSONAL_KEY_PARTS)


def _redact_patterns(text: str) -> str:
    for pattern in (_EMAIL, _IBAN, _PHONE):
        text = pattern.sub(REDACTED, text)
    return redact_text(text)


def redact_shown(value: Any, key: str | None = None) -> Any:
    """A copy of ``value`` fit to show an operator: every key that looks like personal data
    (``PERSONAL_KEY_PARTS``) blanked, and e-mail addresses, Dutch phone numbers, IBANs and BSNs
    inside any text replaced, at any depth."""
    if key is not None and _personal_key(key):
        return REDACTED
    if isinstance(value, str):
        return _redact_patterns(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _redact_patterns(str(value)) if len(str(value)) in (9, 10, 11) else value
    if isinstance(value, dict):
        return {k: redact_shown(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_shown(v) for v in value]
    return value


# Free-form fields of published contract versions that do not declare them personal data (a
# published schema cannot change within its major): what a citizen typed into a form, under keys
# the form chose. Every value in them is blanked when shown; the keys stay, so an operator sees
# the form's shape. The next major declares them (contracts.personal_data).
UNDECLARED_FREE_FORM: dict[str, tuple[str, ...]] = {
    "nl.gemeente.formulier.ingediend": ("values.*",),
}


def shown_payload(payload: Any, event_type: str, dataschema: str | None = None) -> Any:
    """An event's payload fit to show an operator (``knooppunt dlq show``, ``tail``, the
    console): what its contract declares personal data and every value of its free-form fields
    blanked (``UNDECLARED_FREE_FORM``), then ``redact_shown``."""
    paths = [
        *declared_personal_data(event_type, dataschema),
        *UNDECLARED_FREE_FORM.get(event_type, ()),
    ]
    return redact_shown(redact_declared(payload, paths))
