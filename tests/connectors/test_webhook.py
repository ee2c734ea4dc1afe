"""The webhook sink against a real HTTP back office (FakeBackOffice), as the shared sink suite:
happy path, retryable and permanent failures, idempotent redelivery, config validation."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import orjson
import pytest
from pydantic import ValidationError

from connectors.sink import Delivery, DeliveryError, SinkContext
from connectors.webhook import WebhookConfig
from connectors.webhook.sink import WebhookSink
from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.delivery import idempotency_key
from tests.fakes.backoffice import FakeBackOffice, running_backoffice

SPEC = contract_for("nl.gemeente.formulier.ingediend", 1)


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


def _delivery(attempt: int = 1) -> Delivery:
    event, _ = build_event(
        SPEC,
        SPEC.example,
        tenant="0363",
        source=source_urn("00000001002564440000", "test"),
        event_id="b6e6c0e5-f93b-511d-b645-64ef99eee849",
        traceparent="00-05f09c67ee781c0d34e29c2cf2d0a842-6607fcc29eba592d-01",
    )
    return Delivery(event, "0363", "zaken", idempotency_key(event, "zaken"), attempt)


def _sink(url: str, environ: dict[str, str] | None = None, **settings: object) -> WebhookSink:
    config = WebhookConfig.model_validate({"url": url, **settings})
    return WebhookSink(config, SinkContext(environ=environ or {}))


async def _failure(sink: WebhookSink) -> DeliveryError:
    try:
        with pytest.raises(DeliveryError) as caught:
            await sink.deliver(_delivery())
    finally:
        await sink.close()
    return caught.value


async def test_delivers_a_structured_cloudevent_with_its_idempotency_key(
    backoffice: FakeBackOffice,
) -> None:
    sink = _sink(
        backoffice.url("zaken"), {"ZAKEN_AUTH": "Bearer s3cret"}, auth_header_env="ZAKEN_AUTH"
    )
    delivered = await sink.deliver(_delivery())
    again = await sink.deliver(_delivery(attempt=2))  # a redelivery carries the same key
    await sink.close()
    first, second = backoffice.received("zaken")
    assert first.body is not None
    assert first.body["id"] == "b6e6c0e5-f93b-511d-b645-64ef99eee849"
    assert first.body["type"] == "nl.gemeente.formulier.ingediend"
    assert first.body["tenant"] == "0363"
    assert first.body["data"]["reference"] == "OF-7TZ2QX"
    assert first.headers["content-type"].startswith("application/cloudevents+json")
    assert first.headers["authorization"] == "Bearer s3cret"
    assert first.headers["traceparent"].startswith("00-05f09c67")
    assert first.idempotency_key == second.idempotency_key == _delivery().idempotency_key
    assert delivered.reference is not None
    assert delivered.reference.startswith(backoffice.url("zaken") + "/zaken/")
    assert again.reference != delivered.reference


async def test_server_errors_are_retryable(backoffice: FakeBackOffice) -> None:
    backoffice.script("zaken", status=503)
    failure = await _failure(_sink(backoffice.url("zaken")))
    assert (failure.permanent, failure.status) == (False, 503)


async def test_retry_after_is_passed_on(backoffice: FakeBackOffice) -> None:
    backoffice.script("zaken", fail_first=1, fail_status=429, retry_after="7")
    failure = await _failure(_sink(backoffice.url("zaken")))
    assert (failure.permanent, failure.retry_after_s) == (False, 7.0)


async def test_a_rejection_is_permanent(backoffice: FakeBackOffice) -> None:
    backoffice.script("zaken", status=400)
    failure = await _failure(_sink(backoffice.url("zaken")))
    assert (failure.permanent, failure.status) == (True, 400)


async def test_the_fake_rejects_what_is_not_a_cloudevent(backoffice: FakeBackOffice) -> None:
    async with httpx.AsyncClient() as client:
        plain = await client.post(backoffice.url("zaken"), json={"id": "1"})
        binary = await client.post(
            backoffice.url("zaken"),
            content=orjson.dumps({"specversion": "1.0", "id": "1", "source": "s"}),
            headers={"content-type": "application/cloudevents+json"},
        )
    assert (plain.status_code, binary.status_code) == (400, 400)


async def test_refused_connections_and_timeouts_are_retryable(backoffice: FakeBackOffice) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{sock.getsockname()[1]}/zaken"
    refused = await _failure(_sink(nobody))
    backoffice.script("slow", delay_s=1.0)
    timed_out = await _failure(_sink(backoffice.url("slow"), timeout_s=0.2))
    assert not refused.permanent
    assert "connection refused" in str(refused)
    assert not timed_out.permanent
    assert "timeout" in str(timed_out)


async def test_a_missing_auth_variable_is_permanent_and_named(backoffice: FakeBackOffice) -> None:
    failure = await _failure(_sink(backoffice.url("zaken"), auth_header_env="ZAKEN_AUTH"))
    assert failure.permanent
    assert "ZAKEN_AUTH is not set" in str(failure)
    assert backoffice.received("zaken") == []


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://x.example", "headers": {"Idempotency-Key": "1"}}, "headers"),
        ({"url": "https://x.example", "timeout_s": 0}, "timeout_s"),
        ({"url": "https://x.example", "retries": 3}, "retries"),
    ],
)
def test_config_mistakes_name_the_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookConfig.model_validate(settings)
    assert caught.value.errors()[0]["loc"][0] == field
