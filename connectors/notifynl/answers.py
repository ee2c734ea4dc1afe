"""How Notify's answers classify a delivery. Pure functions.

Source: GOV.UK Notify API documentation, the "Error codes" of "Send an email" and "Send a text
message". An error answer's body is ``{"status_code": 400, "errors": [{"error":
"ValidationError", "message": "..."}]}``:

- 201 (sent), 200 (a lookup): None here.
- 400 ``BadRequestError`` or ``ValidationError`` (trial mode, team key, template,
  personalisation, address or number): ``Permanent``, naming the error.
- 403 ``AuthError`` (API key not found, clock more than 30 s off): ``Permanent``, likewise.
- 429 ``RateLimitError`` (3,000 per minute) or ``TooManyRequestsError`` (the daily limit):
  ``Throttled``, with the Retry-After when given.
- 5xx (``Exception``): ``Retryable``, with the Retry-After when given.
- anything else: as ``connectors.sdk.http.failure_for_status``.

Reasons name the status and the error's name (``ValidationError``), never its ``message``:
Notify's messages may repeat the address, the number or a personalisation value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import orjson

from connectors.sdk import Permanent, Retryable, Throttled
from connectors.sdk.http import failure_for_status, retry_after_seconds, status_line

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from connectors.sdk import Failure

__all__ = ["error_names", "failure_for_answer"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")  # an error class name, nothing more
_MAX_NAMES = 3


def error_names(body: bytes) -> list[str]:
    """The ``error`` names of a Notify error body, in order, without repeats, at most three;
    names that are not a plain identifier are left out (so nothing else can get through)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    errors = document.get("errors") if isinstance(document, dict) else None
    names: list[str] = []
    for error in errors if isinstance(errors, list) else []:
        name = error.get("error") if isinstance(error, dict) else None
        if isinstance(name, str) and _NAME.fullmatch(name) and name not in names:
            names.append(name)
    return names[:_MAX_NAMES]


def failure_for_answer(
    status: int, headers: Mapping[str, str], body: bytes, now: datetime
) -> Failure | None:
    """None for 2xx; otherwise the failure, ``code`` the status, the reason naming Notify's
    error names (``"HTTP 400 Bad Request: ValidationError"``). ``now`` (aware) turns a
    Retry-After date into seconds."""
    if 200 <= status < 300:
        return None
    names = error_names(body)
    reason = status_line(status) + (f": {', '.join(names)}" if names else "")
    retry_after = retry_after_seconds(
        next((v for k, v in headers.items() if k.lower() == "retry-after"), None), now
    )
    if status == 429:
        return Throttled(retry_after, code="429", reason=reason)
    if status in (400, 403):
        hint = "check api_key_env and the clock" if status == 403 else "Notify refuses it"
        return Permanent(f"{reason} ({hint})", code=str(status))
    if 500 <= status < 600:
        return Retryable(reason, code=str(status), retry_after_s=retry_after)
    return failure_for_status(status, headers, now)
