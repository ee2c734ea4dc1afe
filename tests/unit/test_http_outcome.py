"""How a back office's HTTP answer (or the lack of one) classifies a delivery
(connectors.sdk.http)."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from connectors.sdk import Failure, HttpError, HttpTimeoutError, Permanent, Retryable, Throttled
from connectors.sdk.http import (
    MAX_RETRY_AFTER_S,
    failure_for_exception,
    failure_for_status,
    retry_after_seconds,
)
from connectors.sdk.http_auth import TokenRefusedError
from connectors.sdk.http_transport import http_error_of

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _failure(status: int, headers: dict[str, str] | None = None) -> Failure:
    failure = failure_for_status(status, headers or {}, NOW)
    assert failure is not None, f"{status} was taken as delivered"
    return failure


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert failure_for_status(status, {}, NOW) is None


@pytest.mark.parametrize("status", [408, 425, 500, 502, 503, 504, 599])
def test_overload_and_server_errors_are_retryable(status: int) -> None:
    failure = _failure(status)
    assert isinstance(failure, Retryable)
    assert failure.code == str(status)


def test_too_many_requests_is_throttled() -> None:
    assert _failure(429, {"Retry-After": "7"}) == Throttled(
        7.0, "429", "HTTP 429 Too Many Requests"
    )


@pytest.mark.parametrize("status", [301, 304, 400, 401, 403, 404, 409, 410, 422])
def test_other_statuses_are_permanent(status: int) -> None:
    failure = _failure(status)
    assert isinstance(failure, Permanent)
    assert failure.code == str(status)


def test_the_message_is_the_status_line() -> None:
    assert _failure(503).reason == "HTTP 503 Service Unavailable"
    assert _failure(404).reason.startswith("HTTP 404 Not Found")
    assert _failure(599).reason == "HTTP 599"  # no phrase for an unknown status


def _retry_after(failure: Failure) -> float | None:
    assert not isinstance(failure, Permanent), f"{failure} is permanent"
    return failure.retry_after_s


def test_retry_after_in_seconds_whatever_the_header_case() -> None:
    assert _retry_after(_failure(429, {"Retry-After": "7"})) == 7.0
    assert _retry_after(_failure(503, {"retry-after": " 120 "})) == 120.0


@pytest.mark.parametrize(
    "absurd", ["99999999999999999999", "Wed, 21 Oct 2999 07:28:00 GMT", "1" + "0" * 400]
)
def test_an_absurd_retry_after_is_read_as_the_longest_wait(absurd: str) -> None:
    """Reported: Retry-After: 99999999999999999999 overflowed timedelta, and the delivery was
    retried every second, forever, past tiers, circuit breaker and dead letters."""
    assert retry_after_seconds(absurd, NOW) == MAX_RETRY_AFTER_S


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    assert _retry_after(_failure(503, {"Retry-After": "Sun, 29 Nov 2026 12:02:00 GMT"})) == 120.0
    assert retry_after_seconds("Sun, 29 Nov 2026 11:00:00 GMT", NOW) == 0.0  # past: never < 0


@pytest.mark.parametrize("garbage", ["soon", "-5", "1.5", "", "Sun, 99 Foo 2026", "٣"])
def test_unreadable_retry_after_is_ignored(garbage: str) -> None:
    assert _retry_after(_failure(429, {"Retry-After": garbage})) is None


def test_retry_after_on_a_permanent_failure_is_ignored() -> None:
    assert _failure(400, {"Retry-After": "7"}) == Permanent(
        "HTTP 400 Bad Request: the back office rejects it", "400"
    )


def _mapped(exc: aiohttp.ClientError | TimeoutError) -> HttpError:
    """What the aiohttp transport raises for ``exc`` (its cause set, as ``raise ... from``)."""
    error = http_error_of(exc, 3.0)
    error.__cause__ = exc
    return error


_NO_HEADERS = CIMultiDictProxy(CIMultiDict[str]())
_CONNECTION = ConnectionKey("zaken.example", 443, True, True, None, None, None)


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (
            aiohttp.ClientConnectorError(_CONNECTION, ConnectionRefusedError(111, "refused")),
            "connection refused or host unreachable: ClientConnectorError",
        ),
        (
            aiohttp.ClientConnectorCertificateError(_CONNECTION, ssl.SSLError("unknown ca")),
            "TLS handshake failed: ClientConnectorCertificateError",
        ),
        (aiohttp.SocketTimeoutError("slow"), "timeout after 3 s (read): SocketTimeoutError"),
        (
            aiohttp.ConnectionTimeoutError("slow"),
            "timeout after 3 s (connect): ConnectionTimeoutError",
        ),
        (TimeoutError(), "timeout after 9 s (request): TimeoutError"),
        (aiohttp.ServerDisconnectedError(), "network error: ServerDisconnectedError"),
        (aiohttp.ClientPayloadError("cut short"), "network error: ClientPayloadError"),
        (
            aiohttp.ClientResponseError(
                RequestInfo(URL("https://zaken.example"), "POST", _NO_HEADERS), ()
            ),
            "protocol error: ClientResponseError",
        ),
    ],
)
def test_failures_without_an_answer_are_retryable(
    exc: aiohttp.ClientError | TimeoutError, message: str
) -> None:
    failure = failure_for_exception(_mapped(exc))
    assert failure == Retryable(message, code=None)


def test_an_sdk_error_raised_by_hand_names_its_own_class() -> None:
    assert failure_for_exception(HttpTimeoutError("read", 0.5)).reason == (
        "timeout after 0.5 s (read): HttpTimeoutError"
    )
    refused = TokenRefusedError("token endpoint answered HTTP 401", 401)
    assert failure_for_exception(refused) == Retryable(
        "token refused (HTTP 401 Unauthorized): TokenRefusedError"
    )
