"""How an HTTP back office's answer classifies a delivery. Pure functions, shared by HTTP sinks.

2xx: delivered. 408, 425, 429 and 5xx: retryable (with the back office's Retry-After). Any other
status: permanent, the back office rejects the content. Timeouts and network errors: retryable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

import httpx

from connectors.sink import DeliveryError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["failure_for_exception", "failure_for_status", "retry_after_seconds"]

_RETRYABLE = {408, 425, 429}


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (delta-seconds or an HTTP-date) in seconds from ``now``."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _phrase(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def failure_for_status(
    status: int, headers: Mapping[str, str], now: datetime
) -> DeliveryError | None:
    """None for 2xx; otherwise the failure, retryable or permanent."""
    if 200 <= status < 300:
        return None
    if status in _RETRYABLE or 500 <= status < 600:
        retry_after = retry_after_seconds(headers.get("retry-after"), now)
        return DeliveryError(
            _phrase(status), permanent=False, retry_after_s=retry_after, status=status
        )
    return DeliveryError(
        f"{_phrase(status)}: the back office rejects it", permanent=True, status=status
    )


def failure_for_exception(exc: httpx.HTTPError) -> DeliveryError:
    """A transport failure: always retryable, the message naming its kind (never the body)."""
    if isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        kind = "connection refused or unreachable"
    else:
        kind = "network error"
    return DeliveryError(f"{kind}: {type(exc).__name__}", permanent=False)
