"""How an HTTP back office's answer classifies a delivery. Pure functions, shared by HTTP sinks.

2xx: delivered. 408, 425, 429 and 5xx: retryable, with the back office's Retry-After. Any other
status (3xx, other 4xx): permanent; the back office rejects the content or the URL is wrong.
Timeouts, refused connections and network or protocol errors: retryable. Messages name the status
or the kind of failure, never the request body.
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

_RETRYABLE = frozenset({408, 425, 429})
# Which of httpx's timeout settings a timeout exception ran out of.
_TIMEOUT_PHASES: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After value (delta-seconds or an HTTP-date) as seconds from ``now`` (aware).

    None when absent or unreadable; a date in the past is 0, never negative.
    """
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _status_line(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def failure_for_status(
    status: int, headers: Mapping[str, str], now: datetime
) -> DeliveryError | None:
    """None for 2xx; otherwise the failure, retryable or permanent, with ``status`` set.

    ``headers`` are the response's (looked up case-insensitively); ``now`` (aware) is when it
    came, to turn a Retry-After date into seconds.
    """
    if 200 <= status < 300:
        return None
    if status in _RETRYABLE or 500 <= status < 600:
        retry_after = retry_after_seconds(_header(headers, "retry-after"), now)
        return DeliveryError(
            _status_line(status), permanent=False, retry_after_s=retry_after, status=status
        )
    reason = "a redirect, check the url" if 300 <= status < 400 else "the back office rejects it"
    return DeliveryError(f"{_status_line(status)}: {reason}", permanent=True, status=status)


def _timeout_s(exc: httpx.TimeoutException, phase: str) -> float | None:
    try:
        timeouts = exc.request.extensions.get("timeout", {})
    except RuntimeError:  # raised without a request
        return None
    value = timeouts.get(phase)
    return float(value) if isinstance(value, int | float) else None


def _kind(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        phase = next((name for cls, name in _TIMEOUT_PHASES if isinstance(exc, cls)), "request")
        seconds = _timeout_s(exc, phase)
        limit = f"after {seconds:g} s" if seconds is not None else "exceeded"
        return f"timeout {limit} ({phase})"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol error"
    return "network error"


def failure_for_exception(exc: httpx.HTTPError) -> DeliveryError:
    """A failure without an answer (timeout, refused, network, protocol): always retryable.

    The message starts with the kind ("timeout after 10 s (read)", "connection refused or host
    unreachable", ...) followed by httpx's exception class; transport errors never carry the body.
    """
    return DeliveryError(f"{_kind(exc)}: {type(exc).__name__}", permanent=False)
