from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from connectors.http_outcome import failure_for_exception, failure_for_status, retry_after_seconds

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_delivered(status: int) -> None:
    assert failure_for_status(status, {}, NOW) is None


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_overload_and_server_errors_are_retryable(status: int) -> None:
    failure = failure_for_status(status, {}, NOW)
    assert failure is not None
    assert not failure.permanent
    assert failure.status == status


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 409, 422])
def test_other_statuses_are_permanent(status: int) -> None:
    failure = failure_for_status(status, {}, NOW)
    assert failure is not None
    assert failure.permanent
    assert str(status) in str(failure)


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert failure_for_status(429, {"retry-after": "7"}, NOW).retry_after_s == 7.0  # type: ignore[union-attr]
    assert retry_after_seconds("Sun, 29 Nov 2026 12:02:00 GMT", NOW) == 120.0
    assert retry_after_seconds("Sun, 29 Nov 2026 11:00:00 GMT", NOW) == 0.0
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused"), "connection refused"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.RemoteProtocolError("eh"), "network error"),
    ],
)
def test_transport_failures_are_retryable(exc: httpx.HTTPError, kind: str) -> None:
    failure = failure_for_exception(exc)
    assert not failure.permanent
    assert str(failure).startswith(kind)
