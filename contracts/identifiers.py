"""Dutch identifiers that count as personal data, and their checks (pure functions)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["Bsn", "KvkNumber", "is_valid_bsn", "passes_elfproef"]

_NINE_DIGITS = re.compile(r"\d{9}")
_EIGHT_DIGITS = re.compile(r"\d{8}")


def passes_elfproef(digits: str) -> bool:
    """The BSN 11-proef: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11 (and not 0)."""
    if not _NINE_DIGITS.fullmatch(digits):
        return False
    # \d also matches other scripts' digits, which int() reads too
    d = [ord(c) - 48 for c in digits] if digits.isascii() else [int(c) for c in digits]
    total = 9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7]
    total -= d[8]
    return total != 0 and total % 11 == 0


def is_valid_bsn(value: str) -> bool:
    return passes_elfproef(value)


def _check_bsn(value: str) -> str:
    if not _NINE_DIGITS.fullmatch(value):
        raise ValueError("a BSN is exactly 9 digits")
    if not passes_elfproef(value):
        raise ValueError("not a valid BSN: it fails the 11-proef")
    return value


def _check_kvk(value: str) -> str:
    if not _EIGHT_DIGITS.fullmatch(value):
        raise ValueError("a KvK number is exactly 8 digits")
    return value


Bsn = Annotated[str, AfterValidator(_check_bsn)]
KvkNumber = Annotated[str, AfterValidator(_check_kvk)]
