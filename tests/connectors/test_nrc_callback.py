"""The nrc-callback sink against a real subscriber (tests/fakes/nrc_subscriber.py): the shared
conformance suite, the message and headers a Notificaties API subscriber expects, and the
classification of its answers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from connectors.nrc_callback import SPEC, NrcCallbackConfig
from connectors.nrc_callback.sink import NrcCallbackSink, build
from connectors.sdk import (
    ConnectorContext,
    Delivered,
    Delivery,
    Outcome,
    Permanent,
    Retryable,
    SecretMissingError,
    Secrets,
    TenantInfo,
    Throttled,
)
from connectors.sdk.conformance import SinkConformance
from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from tests.fakes.nrc_subscriber import (
    FakeSubscriber,
    SubscriberConformanceFake,
    conformance_subscriber,
    notification_problems,
    running_subscriber,
)
from tests.kafka_under_test import free_port

ZAKEN = contract_for("nl.overheid.zaken.status.create")
AUTH = "Bearer abonnement-geheim"
ENVIRON = {"KNOOPPUNT_ZAC_NRC_AUTH": AUTH}
TENANT = TenantInfo(id="0363", oin="00000001002564440000", rsin="002564440")


@contextmanager
def _conformance_fake() -> Iterator[SubscriberConformanceFake]:
    with conformance_subscriber(AUTH) as fake:
        yield fake


CONFORMANCE = SinkConformance(
    spec=SPEC,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "url"),
        ({"url": "ftp://zac.example/in"}, "url"),
        ({"url": "https://user:pw@zac.example/in"}, "url"),
        ({"url": "https://zac.example", "auth_header_env": "lower"}, "auth_header_env"),
        ({"url": "https://zac.example", "timeout_s": 0}, "timeout_s"),
    ],
    environ=ENVIRON,
    contract=ZAKEN,
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


@pytest.fixture
def subscriber() -> Iterator[FakeSubscriber]:
    with running_subscriber() as fake:
        yield fake


def _delivery(payload: dict[str, Any] | None = None, raw: bytes | None = None) -> Delivery:
    event, _ = build_event(
        ZAKEN,
        payload or ZAKEN.example,
        tenant=TENANT.id,
        source=source_urn(TENANT.oin, "openzaak"),
        event_id="5c1d6c53-0f0b-4b7e-8e53-6f1c0f7e2d11",
        time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    )
    if raw is not None:
        event = replace(event, data=raw)
    return Delivery(event, TENANT.id, "abonnement", "e3b7a5b8-3c5e-5b0e-9c1e-0d9f4a1b2c3d", 1)


def _sink(url: str, environ: dict[str, str] | None = None, **settings: Any) -> NrcCallbackSink:
    config = NrcCallbackConfig.model_validate(
        {"url": url, "auth_header_env": "KNOOPPUNT_ZAC_NRC_AUTH", "timeout_s": 2, **settings}
    )
    context = ConnectorContext(
        TENANT,
        "abonnement",
        "nrc-callback",
        secrets=Secrets(ENVIRON if environ is None else environ),
    )
    return build(config, context)


async def _deliver(sink: NrcCallbackSink, delivery: Delivery) -> Outcome:
    await sink.open()
    try:
        return await sink.deliver(delivery)
    finally:
        await sink.close()


async def test_the_subscriber_gets_the_notification_as_published_with_its_auth(
    subscriber: FakeSubscriber,
) -> None:
    subscriber.expect_auth(AUTH)
    published = orjson.dumps(ZAKEN.example) + b" "  # the bytes as published, not re-encoded

    outcome = await _deliver(_sink(subscriber.url()), _delivery(raw=published))

    assert outcome == Delivered()
    [callback] = subscriber.received
    assert callback.status == 204
    assert callback.body == published
    assert callback.headers["authorization"] == AUTH
    assert callback.headers["content-type"] == "application/json"
    assert callback.headers["idempotency-key"] == "e3b7a5b8-3c5e-5b0e-9c1e-0d9f4a1b2c3d"
    assert subscriber.notifications() == [ZAKEN.example]
    assert notification_problems(ZAKEN.example) == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, Retryable), (503, Retryable), (429, Throttled), (400, Permanent), (410, Permanent)],
)
async def test_answers_are_classified(
    subscriber: FakeSubscriber, status: int, expected: type
) -> None:
    subscriber.script(status)
    outcome = await _deliver(_sink(subscriber.url()), _delivery())
    assert type(outcome) is expected, outcome
    assert isinstance(outcome, Retryable | Throttled | Permanent)
    assert outcome.code == str(status)


async def test_a_wrong_auth_is_refused_by_the_subscriber_and_permanent(
    subscriber: FakeSubscriber,
) -> None:
    subscriber.expect_auth("Bearer iets-anders")
    outcome = await _deliver(_sink(subscriber.url()), _delivery())
    assert isinstance(outcome, Permanent)
    assert outcome.code == "403"


async def test_an_unreachable_subscriber_is_retryable() -> None:
    outcome = await _deliver(_sink(f"http://127.0.0.1:{free_port()}/cb"), _delivery())
    assert isinstance(outcome, Retryable)


async def test_a_payload_that_is_not_a_notification_is_permanent_and_never_sent(
    subscriber: FakeSubscriber,
) -> None:
    for raw in (b"[1]", b"{not json", orjson.dumps({"kanaal": "zaken"})):
        outcome = await _deliver(_sink(subscriber.url()), _delivery(raw=raw))
        assert isinstance(outcome, Permanent), raw
    assert subscriber.received == []


async def test_a_missing_auth_variable_refuses_the_start_naming_it(
    subscriber: FakeSubscriber,
) -> None:
    sink = _sink(subscriber.url(), environ={})
    with pytest.raises(SecretMissingError, match="KNOOPPUNT_ZAC_NRC_AUTH"):
        await sink.open()


def test_the_fake_refuses_what_is_not_a_notificatie() -> None:
    broken = copy.deepcopy(ZAKEN.example)
    broken["hoofdObject"] = "zaken/1"
    del broken["actie"]
    broken["extra"] = 1
    assert notification_problems(broken) == [
        "actie: required string of at most 100",
        "hoofdObject: required absolute URI",
        "extra: unknown field",
    ]


def test_the_connector_declares_itself_as_a_pushing_sink_of_zgw_notifications() -> None:
    assert SPEC.pushes
    assert SPEC.accepts_contract("nl.overheid.zaken")
    assert not SPEC.accepts_contract("nl.gemeente.formulier.ingediend")
