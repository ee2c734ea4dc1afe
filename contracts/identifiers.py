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
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    total = sum(w * int(d) for w, d in zip(weights, digits, strict=True))
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
