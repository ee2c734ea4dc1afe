"""The webhook sink against a real HTTP back office (FakeBackOffice): the shared conformance
suite, then what it sends, how each answer is classified, and which settings are refused."""

from __future__ import annotations

import base64
import dataclasses
import re
import runpy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from pydantic import ValidationError

from connectors.sdk import (
    ConnectorContext,
    Delivered,
    Delivery,
    Failure,
    HttpResponse,
    HttpTransport,
    MockTransport,
    Outcome,
    Permanent,
    Retryable,
    SecretMissingError,
    Secrets,
    TenantInfo,
    Throttled,
)
from connectors.sdk.conformance import SinkConformance
from connectors.webhook import SPEC as WEBHOOK
from connectors.webhook import WebhookConfig, WebhookSink
from connectors.webhook.signature import SignatureSecretError, signatures, signing_keys
from connectors.webhook.sink import build
from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.delivery.history import idempotency_key
from tests.fakes.backoffice import FakeBackOffice, WebhookConformanceFake, running_backoffice
from tests.kafka_under_test import free_port

CONTRACT = contract_for("nl.gemeente.formulier.ingediend", 1)
EVENT_ID = "b6e6c0e5-f93b-511d-b645-64ef99eee849"
SENT_AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
TRACEPARENT = "00-05f09c67ee781c0d34e29c2cf2d0a842-6607fcc29eba592d-01"
README = Path(__file__).parents[2] / "connectors" / "webhook" / "README.md"
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()


@contextmanager
def _conformance_fake() -> Iterator[WebhookConformanceFake]:
    with running_backoffice() as fake:
        yield fake.conformance("zaken")


CONFORMANCE = SinkConformance(
    spec=WEBHOOK,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "url"),
        ({"url": "ftp://x.example/in"}, "url"),
        ({"url": "https://x.example", "timeout_s": 0}, "timeout_s"),
        ({"url": "https://x.example", "headers": {"Idempotency-Key": "1"}}, "headers"),
    ],
    environ={"KNOOPPUNT_ZAAKSYSTEEM_AUTH": "Bearer conformance"},
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


def _delivery(attempt: int = 1) -> Delivery:
    event, _ = build_event(
        CONTRACT,
        CONTRACT.example,
        tenant="0363",
        source=source_urn("00000001002564440000", "test"),
        event_id=EVENT_ID,
        time=SENT_AT,
        traceparent=TRACEPARENT,
    )
    return Delivery(event, "0363", "zaken", idempotency_key(event, "zaken"), attempt)


def _sink(
    url: str,
    environ: dict[str, str] | None = None,
    transport: HttpTransport | None = None,
    **settings: object,
) -> WebhookSink:
    config = WebhookConfig.model_validate({"url": url, **settings})
    context = ConnectorContext(
        TenantInfo("0363", "00000001002564440000", "002564440"),
        "zaken",
        "webhook",
        secrets=Secrets(environ or {}),
        transport=transport,
    )
    return build(config, context)


def _failed(outcome: Outcome) -> Failure:
    assert not isinstance(outcome, Delivered), f"delivered: {outcome}"
    return outcome


async def _failure(sink: WebhookSink, delivery: Delivery | None = None) -> Failure:
    try:
        return _failed(await sink.deliver(delivery or _delivery()))
    finally:
        await sink.close()


def _delivered(outcome: Outcome) -> Delivered:
    assert isinstance(outcome, Delivered), f"not delivered: {outcome}"
    return outcome


async def test_delivers_a_structured_cloudevent_with_its_idempotency_key(
    backoffice: FakeBackOffice,
) -> None:
    sink = _sink(
        backoffice.url("zaken"),
        {"ZAKEN_AUTH": "Bearer s3cret"},
        auth_header_env="ZAKEN_AUTH",
        headers={"X-Gemeente": "0363"},
    )
    delivered = _delivered(await sink.deliver(_delivery()))
    again = _delivered(await sink.deliver(_delivery(attempt=2)))  # the same key again
    await sink.close()

    first, second = backoffice.received("zaken")
    assert first.status == 201
    assert first.body == {
        "specversion": "1.0",
        "id": EVENT_ID,
        "source": "urn:nld:oin:00000001002564440000:systeem:test",
        "type": "nl.gemeente.formulier.ingediend",
        "time": "2026-11-29T10:00:00+00:00",
        "subject": _delivery().event.subject,
        "dataschema": CONTRACT.dataschema,
        "datacontenttype": "application/json",
        "tenant": "0363",
        "traceparent": TRACEPARENT,
        "data": _delivery().event.payload(),
    }
    assert first.body["data"]["reference"] == CONTRACT.example["reference"]
    assert first.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    assert first.headers["authorization"] == "Bearer s3cret"
    assert first.headers["traceparent"] == TRACEPARENT
    assert first.headers["x-gemeente"] == "0363"
    assert first.idempotency_key == second.idempotency_key == _delivery().idempotency_key
    assert delivered.reference is not None
    assert delivered.reference.startswith(backoffice.url("zaken") + "/zaken/")
    assert again.reference not in (None, delivered.reference)  # each answer's own Location


async def test_server_errors_are_retryable(backoffice: FakeBackOffice) -> None:
    backoffice.script("zaken", status=503)
    failure = await _failure(_sink(backoffice.url("zaken")))
    assert failure == Retryable("HTTP 503 Service Unavailable", code="503", retry_after_s=None)


async def test_retry_after_is_passed_on(backoffice: FakeBackOffice) -> None:
    backoffice.script("zaken", fail_first=1, fail_status=429, retry_after="7")
    sink = _sink(backoffice.url("zaken"))
    failure = _failed(await sink.deliver(_delivery()))
    delivered = _delivered(await sink.deliver(_delivery(attempt=2)))  # it has recovered
    await sink.close()
    assert isinstance(failure, Throttled)  # 429: retried like a retryable failure
    assert (failure.code, failure.retry_after_s) == ("429", 7.0)
    assert delivered.reference is not None
    assert [r.status for r in backoffice.received("zaken")] == [429, 201]


async def test_a_rejection_is_permanent(backoffice: FakeBackOffice) -> None:
    backoffice.script("zaken", status=400)
    failure = await _failure(_sink(backoffice.url("zaken")))
    assert isinstance(failure, Permanent)
    assert failure.code == "400"


async def test_the_fake_rejects_what_is_not_a_structured_cloudevent(
    backoffice: FakeBackOffice,
) -> None:
    async with httpx.AsyncClient() as client:
        plain_json = await client.post(backoffice.url("zaken"), json={"id": "1"})
        no_type = await client.post(
            backoffice.url("zaken"),
            content=orjson.dumps({"specversion": "1.0", "id": "1", "source": "s"}),
            headers={"content-type": "application/cloudevents+json"},
        )
    for answer in (plain_json, no_type):
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
    assert "application/cloudevents+json" in plain_json.json()["detail"]
    assert "type" in no_type.json()["detail"]
    assert [r.status for r in backoffice.received("zaken")] == [400, 400]
    assert backoffice.accepted("zaken") == []


async def test_a_refused_connection_is_retryable() -> None:
    closed = free_port()  # bound and closed again: nobody listens there
    failure = await _failure(_sink(f"http://127.0.0.1:{closed}/zaken"))
    assert isinstance(failure, Retryable)
    assert failure.code is None
    assert failure.reason.startswith("connection refused")


async def test_a_slow_back_office_is_a_retryable_timeout(backoffice: FakeBackOffice) -> None:
    backoffice.script("slow", delay_s=2.0)
    failure = await _failure(_sink(backoffice.url("slow"), timeout_s=0.2))
    assert isinstance(failure, Retryable)
    assert failure.code is None
    assert failure.reason.startswith("timeout after 0.2 s")


async def test_a_missing_auth_variable_is_permanent_and_named(backoffice: FakeBackOffice) -> None:
    environ = {"OTHER": "Bearer not-this-one"}
    failure = await _failure(_sink(backoffice.url("zaken"), environ, auth_header_env="ZAKEN_AUTH"))
    assert isinstance(failure, Permanent)
    assert "ZAKEN_AUTH" in failure.reason
    assert "not set" in failure.reason
    assert "not-this-one" not in failure.reason
    assert backoffice.received("zaken") == []  # nothing was sent without its credentials


async def test_a_payload_that_is_not_json_is_permanent(backoffice: FakeBackOffice) -> None:
    delivery = _delivery()
    broken = dataclasses.replace(delivery, event=dataclasses.replace(delivery.event, data=b"<x/>"))
    failure = await _failure(_sink(backoffice.url("zaken")), broken)
    assert isinstance(failure, Permanent)
    assert backoffice.received("zaken") == []


@pytest.mark.parametrize(
    ("answer", "reference"),
    [
        (HttpResponse.of(201, headers={"Location": "/zaken/1"}), "https://zaken.example/zaken/1"),
        (
            HttpResponse.of(200, json={"url": "https://zaken.example/z/2"}),
            "https://zaken.example/z/2",
        ),
        (HttpResponse.of(200, json={"url": 3}), None),
        (HttpResponse.of(200, json=["https://zaken.example/z/2"]), None),
        (HttpResponse.of(202, body=b"accepted"), None),
        (HttpResponse.of(204), None),
    ],
)
async def test_the_reference_is_the_location_or_the_bodys_url(
    answer: HttpResponse, reference: str | None
) -> None:
    sink = _sink("https://zaken.example/events", transport=MockTransport(lambda _: answer))
    delivered = _delivered(await sink.deliver(_delivery()))
    await sink.close()
    assert delivered.reference == reference


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://x.example/in"}, "url"),
        ({"url": "https://x.example", "headers": {"Idempotency-Key": "1"}}, "headers"),
        ({"url": "https://x.example", "headers": {"authorization": "Bearer x"}}, "headers"),
        ({"url": "https://x.example", "headers": {"Content-Type": "text/plain"}}, "headers"),
        ({"url": "https://x.example", "headers": {"X-A": "1\r\nX-B: 2"}}, "headers"),
        ({"url": "https://x.example", "headers": {"bad name": "1"}}, "headers"),
        ({"url": "https://x.example", "timeout_s": 0}, "timeout_s"),
        ({"url": "https://x.example", "timeout_s": 121}, "timeout_s"),
        ({"url": "https://x.example", "auth_header_env": "Bearer abc"}, "auth_header_env"),
        ({"url": "https://x.example", "signing_secret_env": "whsec_x"}, "signing_secret_env"),
        ({"url": "https://x.example", "headers": {"Webhook-Signature": "v1,x"}}, "headers"),
        ({"url": "https://x.example", "retries": 3}, "retries"),
    ],
)
def test_config_mistakes_name_the_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookConfig.model_validate(settings)
    assert [error["loc"][0] for error in caught.value.errors()] == [field]


def test_the_connector_declares_itself_as_a_pushing_sink() -> None:
    assert (WEBHOOK.name, WEBHOOK.kind, WEBHOOK.config) == ("webhook", "sink", WebhookConfig)
    assert WEBHOOK.build is build
    assert WEBHOOK.pushes
    assert WEBHOOK.accepts_contract("nl.gemeente.brp.persoon-gewijzigd")


def test_signatures_match_the_standard_webhooks_known_answer() -> None:
    # The test vector of the Standard Webhooks reference libraries (their test_sign_function).
    keys = signing_keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signed = signatures(keys, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "no secret given"),
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "does not start with 'whsec_'"),
        ("whsec_not*base64", "is not base64"),
        ("whsec_" + base64.b64encode(b"x" * 23).decode(), "is 23 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "is 65 bytes"),
        (f"{SECRET} whsec_short", "secret 2 is not base64"),
    ],
)
def test_a_malformed_signing_secret_is_refused_without_showing_it(value: str, problem: str) -> None:
    with pytest.raises(SignatureSecretError) as caught:
        signing_keys(value)
    message = str(caught.value)
    assert problem in message
    assert not any(secret in message for secret in value.split())


def _signing_sink(url: str, environ: dict[str, str]) -> WebhookSink:
    return _sink(url, environ, signing_secret_env="ZAKEN_SIGNING")


async def test_a_signed_request_verifies_at_the_receiver(backoffice: FakeBackOffice) -> None:
    backoffice.require_signature("zaken", SECRET)
    sink = _signing_sink(backoffice.url("zaken"), {"ZAKEN_SIGNING": SECRET})
    await sink.open()
    before = int(time.time())
    outcomes = [await sink.deliver(_delivery()), await sink.deliver(_delivery(attempt=2))]
    await sink.close()
    first, second = backoffice.received("zaken")
    assert all(isinstance(o, Delivered) for o in outcomes), outcomes
    assert (first.status, second.status) == (201, 201)  # the receiver verified both
    key = _delivery().idempotency_key
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == key
    assert before <= int(first.headers["webhook-timestamp"]) <= int(time.time())
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", first.headers["webhook-signature"])


async def test_a_signature_under_another_secret_is_refused(backoffice: FakeBackOffice) -> None:
    backoffice.require_signature("zaken", SECRET)
    sink = _signing_sink(backoffice.url("zaken"), {"ZAKEN_SIGNING": OTHER_SECRET})
    await sink.open()
    failure = await _failure(sink)
    [refused] = backoffice.received("zaken")
    assert refused.status == 401
    assert isinstance(failure, Permanent)
    assert failure.code == "401"
    assert backoffice.accepted("zaken") == []


async def test_unsigned_requests_are_refused_by_a_verifying_receiver(
    backoffice: FakeBackOffice,
) -> None:
    backoffice.require_signature("zaken", SECRET)
    failure = await _failure(_sink(backoffice.url("zaken")))
    assert "webhook-signature" not in backoffice.received("zaken")[0].headers
    assert isinstance(failure, Permanent)


async def test_while_rotating_both_secrets_sign(backoffice: FakeBackOffice) -> None:
    backoffice.require_signature("old", SECRET)
    backoffice.require_signature("new", OTHER_SECRET)
    environ = {"ZAKEN_SIGNING": f"{SECRET} {OTHER_SECRET}"}
    for name in ("old", "new"):
        sink = _signing_sink(backoffice.url(name), environ)
        await sink.open()
        outcome = await sink.deliver(_delivery())
        await sink.close()
        assert isinstance(outcome, Delivered), outcome
        [request] = backoffice.received(name)
        assert request.status == 201
        assert len(request.headers["webhook-signature"].split()) == 2


async def test_a_missing_signing_secret_is_refused_at_start(backoffice: FakeBackOffice) -> None:
    sink = _signing_sink(backoffice.url("zaken"), {"OTHER": SECRET})
    with pytest.raises(SecretMissingError) as caught:
        await sink.open()
    assert str(caught.value) == (
        "tenant 0363, destination zaken: signing_secret_env: "
        "environment variable ZAKEN_SIGNING is not set"
    )
    await sink.close()
    assert backoffice.received("zaken") == []


async def test_a_malformed_signing_secret_is_refused_at_start(backoffice: FakeBackOffice) -> None:
    sink = _signing_sink(backoffice.url("zaken"), {"ZAKEN_SIGNING": "hunter2-not-a-secret"})
    with pytest.raises(SignatureSecretError) as caught:
        await sink.open()
    await sink.close()
    message = str(caught.value)
    assert message.startswith("tenant 0363, destination zaken: signing_secret_env: ")
    assert "ZAKEN_SIGNING" in message
    assert "hunter2" not in message


async def test_a_signing_secret_gone_after_the_start_is_permanent(
    backoffice: FakeBackOffice,
) -> None:
    environ = {"ZAKEN_SIGNING": SECRET}
    sink = _signing_sink(backoffice.url("zaken"), environ)
    await sink.open()
    del environ["ZAKEN_SIGNING"]  # read per delivery: a rotation, or here a removal, is seen
    failure = await _failure(sink)
    assert isinstance(failure, Permanent)
    assert failure.reason == "environment variable ZAKEN_SIGNING is not set (signing_secret_env)"
    assert backoffice.received("zaken") == []  # nothing went out unsigned


def _readme_verify(folder: Path) -> Callable[[str, dict[str, str], bytes], bool]:
    """The receiver's example in connectors/webhook/README.md, run as written."""
    [example] = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    module = folder / "receiver.py"
    module.write_text(example)
    verify: Callable[[str, dict[str, str], bytes], bool] = runpy.run_path(str(module))["verify"]
    return verify


async def test_the_readmes_receiver_example_verifies_what_the_sink_sends(
    backoffice: FakeBackOffice, tmp_path: Path
) -> None:
    sink = _signing_sink(backoffice.url("zaken"), {"ZAKEN_SIGNING": SECRET})
    await sink.open()
    outcome = await sink.deliver(_delivery())
    await sink.close()
    assert isinstance(outcome, Delivered), outcome
    [request] = backoffice.received("zaken")
    verify = _readme_verify(tmp_path)
    assert verify(SECRET, request.headers, request.raw)
    assert not verify(OTHER_SECRET, request.headers, request.raw)
    assert not verify(SECRET, request.headers, request.raw.replace(b"0363", b"0599"))
    stale = {**request.headers, "webhook-timestamp": str(int(time.time()) - 301)}
    assert not verify(SECRET, stale, request.raw)
    assert not verify(SECRET, {}, request.raw)
