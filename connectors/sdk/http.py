"""How an HTTP back office's answer classifies a delivery. Pure functions, shared by HTTP sinks.

| answer | outcome |
| --- | --- |
| 2xx | None here: the sink makes its own ``Delivered`` |
| 429 Too Many Requests (RFC 6585 §4) | ``Throttled`` with the Retry-After |
| 408, 425, 5xx | ``Retryable`` with the Retry-After (RFC 9110 §10.2.3) |
| 3xx, any other 4xx | ``Permanent``: the back office refuses the content, or the URL is wrong |
| timeout, refused connection, network or protocol error | ``Retryable``, ``code`` None |

``code`` is the status as a string. Reasons name the status or the kind of failure, never the
request body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

import httpx

from connectors.sdk.outcomes import Permanent, Retryable, Throttled

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connectors.sdk.outcomes import Failure

__all__ = ["failure_for_exception", "failure_for_status", "retry_after_seconds", "status_line"]

_RETRYABLE = frozenset({408, 425})
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


def status_line(status: int) -> str:
    """``"HTTP 503 Service Unavailable"``; ``"HTTP 599"`` for a status without a phrase."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def failure_for_status(status: int, headers: Mapping[str, str], now: datetime) -> Failure | None:
    """None for 2xx; otherwise the failure with ``code`` the status.

    ``headers`` are the response's (looked up case-insensitively); ``now`` (aware) is when it
    came, to turn a Retry-After date into seconds.
    """
    if 200 <= status < 300:
        return None
    retry_after = retry_after_seconds(_header(headers, "retry-after"), now)
    if status == 429:
        return Throttled(retry_after_s=retry_after, code="429", reason=status_line(status))
    if status in _RETRYABLE or 500 <= status < 600:
        return Retryable(status_line(status), code=str(status), retry_after_s=retry_after)
    reason = "a redirect, check the url" if 300 <= status < 400 else "the back office rejects it"
    return Permanent(f"{status_line(status)}: {reason}", code=str(status))


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


def failure_for_exception(exc: httpx.HTTPError) -> Retryable:
    """A failure without an answer (timeout, refused, network, protocol): always retryable.

    The reason starts with the kind ("timeout after 10 s (read)", "connection refused or host
    unreachable", ...) followed by httpx's exception class; transport errors never carry the body.
    """
    return Retryable(f"{_kind(exc)}: {type(exc).__name__}")
