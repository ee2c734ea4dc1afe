"""How an HTTP back office's answer classifies a delivery. Pure functions, shared by HTTP sinks.

| answer | outcome |
| --- | --- |
| 2xx | None here: the sink makes its own ``Delivered`` |
| 429 Too Many Requests (RFC 6585 §4) | ``Throttled`` with the Retry-After |
| 408, 425, 5xx | ``Retryable`` with the Retry-After (RFC 9110 §10.2.3) |
| 3xx, any other 4xx | ``Permanent``: the back office refuses the content, or the URL is wrong |
| no answer: an ``HttpError`` (timeout, refused, TLS, broken, token refused) | ``Retryable`` |

``code`` is the status as a string. Reasons name the status or the kind of failure, never the
request body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

from connectors.sdk.http_auth import TokenRefusedError
from connectors.sdk.http_messages import (
    HttpConnectError,
    HttpError,
    HttpProtocolError,
    HttpTimeoutError,
    HttpTlsError,
)
from connectors.sdk.outcomes import Permanent, Retryable, Throttled
from connectors.sdk.secrets import SecretMissingError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

    from connectors.sdk.http_messages import HttpResponse
    from connectors.sdk.outcomes import Failure

__all__ = [
    "answer_or_failure",
    "failure_for_exception",
    "failure_for_status",
    "invalid_params",
    "retry_after_seconds",
    "status_line",
]

_RETRYABLE = frozenset({408, 425})


MAX_RETRY_AFTER_S = 7 * 24 * 3600.0  # a longer wish is read as this: no tier waits longer


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After value (RFC 9110 §10.2.3: delta-seconds or an HTTP-date) as seconds from
    ``now`` (aware), at most ``MAX_RETRY_AFTER_S``.

    None when absent or unreadable; a date in the past is 0, never negative.
    """
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER_S)


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


def _kind(exc: HttpError) -> str:
    if isinstance(exc, HttpTimeoutError):
        return f"timeout after {exc.seconds:g} s ({exc.phase})"
    if isinstance(exc, TokenRefusedError):
        return f"token refused ({status_line(exc.status)})"
    if isinstance(exc, HttpTlsError):
        return "TLS handshake failed"
    if isinstance(exc, HttpConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, HttpProtocolError):
        return "protocol error"
    return "network error"


def _cause(exc: HttpError) -> str:
    """The class of what the transport raised (aiohttp's), else the SDK error's own."""
    return type(exc.__cause__ or exc).__name__


def failure_for_exception(exc: HttpError) -> Retryable:
    """A failure without an answer (timeout, refused, TLS, network, protocol, token refused):
    always retryable.

    The reason starts with the kind ("timeout after 10 s (read)", "connection refused or host
    unreachable", ...) followed by the class of the transport's exception; it never carries the
    body.
    """
    return Retryable(f"{_kind(exc)}: {_cause(exc)}")


async def answer_or_failure(
    request: Awaitable[HttpResponse], secret_setting: str
) -> HttpResponse | Failure:
    """The answer to ``request`` when it is a 2xx, else the failure as a sink reports it: the
    refusing status classified (``failure_for_status``, its ``code`` the status), a network
    error classified (``failure_for_exception``), or Permanent when the secret the client needs
    is missing (naming the setting, ``secret_setting``, that names it)."""
    try:
        response = await request
    except SecretMissingError as exc:
        return Permanent(f"{exc} ({secret_setting})")
    except HttpError as exc:
        return failure_for_exception(exc)
    failure = failure_for_status(response.status, response.headers, datetime.now(UTC))
    return response if failure is None else failure


def invalid_params(response: HttpResponse) -> str:
    """The refused fields of a problem+json error answer (the VNG API design rules'
    ``invalidParams``, as the ZGW and Objects APIs send them) as ``name: code`` pairs,
    comma-separated; empty when it names none. The ``reason`` texts are left out: they may
    quote the values sent."""
    try:
        body = response.json()
    except ValueError:
        return ""
    params = body.get("invalidParams") if isinstance(body, dict) else None
    pairs = [
        f"{param.get('name')}: {param.get('code')}"
        for param in params or []
        if isinstance(param, dict)
    ]
    return ", ".join(pairs)
