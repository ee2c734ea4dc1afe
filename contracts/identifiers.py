"""Dutch identifiers that count as personal data, and their checks (pure functions)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["Bsn", "KvkNumber", "ascii_text", "is_ascii_digits", "is_valid_bsn", "passes_elfproef"]

# Identifiers are ASCII digits only. Python's \d (and pydantic's regex engine) also matches
# full-width and Arabic-Indic digits, which int() reads as the same number: "９９９９９３６５３"
# would pass as a BSN and travel on in a form no back office matches. JSON Schema patterns are
# ECMA-262 regexes, where \d is [0-9]: the published schemas already mean ASCII.
_NINE_DIGITS = re.compile(r"[0-9]{9}")
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")


def is_ascii_digits(value: str, length: int) -> bool:
    """Whether ``value`` is exactly ``length`` ASCII digits (0-9, nothing else)."""
    return len(value) == length and value.isascii() and value.isdigit()


def ascii_text(value: str) -> str:
    """AfterValidator: refuse text outside ASCII where a published pattern's \\w or \\d
    means ASCII (ECMA-262, as JSON Schema reads patterns)."""
    if not value.isascii():
        raise ValueError("only ASCII letters, digits and punctuation are allowed here")
    return value


def passes_elfproef(digits: str) -> bool:
    """The BSN 11-proef: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11 (and not 0)."""
    if not _NINE_DIGITS.fullmatch(digits):
        return False
    d = [ord(c) - 48 for c in digits]
    total = 9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7]
    total -= d[8]
    return total != 0 and total % 11 == 0


def is_valid_bsn(value: str) -> bool:
    return passes_elfproef(value)


def _check_bsn(value: str) -> str:
    if not _NINE_DIGITS.fullmatch(value):
        raise ValueError("a BSN is exactly 9 digits (0-9)")
    if not passes_elfproef(value):
        raise ValueError("not a valid BSN: it fails the 11-proef")
    return value


def _check_kvk(value: str) -> str:
    if not _EIGHT_DIGITS.fullmatch(value):
        raise ValueError("a KvK number is exactly 8 digits (0-9)")
    return value


Bsn = Annotated[str, AfterValidator(_check_bsn)]
KvkNumber = Annotated[str, AfterValidator(_check_kvk)]
