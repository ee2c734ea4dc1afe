"""Keep personal data out of logs: a pure function over a log event's values."""

from __future__ import annotations

import re
from typing import Any

from contracts.identifiers import passes_elfproef

__all__ = ["REDACTED", "SENSITIVE_KEYS", "redact", "redact_text"]

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


def redact_text(text: str) -> str:
    """Replace every 9-digit run that passes the BSN 11-proef."""
    return _NINE_DIGIT_RUN.sub(
        lambda m: REDACTED if passes_elfproef(m.group()) else m.group(), text
    )


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
