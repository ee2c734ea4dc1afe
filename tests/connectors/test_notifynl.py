"""The notifynl sink against a real HTTP server faking the Notify API (tests/fakes/notify.py):
the shared conformance suite, then what arrives (JWT, bodies), how Notify's answers classify,
the lookup that keeps a redelivery from sending twice, and the client-side rate limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from connectors.notifynl import SPEC as NOTIFYNL
from connectors.notifynl import NotifyNlConfig, NotifyNlSink
from connectors.notifynl.auth import NotifyApiKey, notify_jwt, parse_api_key
from connectors.notifynl.rate_limit import SendWindow, SendWindows
from connectors.notifynl.sink import BERICHT
from connectors.sdk import (
    ConnectorContext,
    Delivered,
    Delivery,
    Failure,
    Outcome,
    Permanent,
    Retryable,
    SecretMissingError,
    Secrets,
    TenantInfo,
    Throttled,
)
from connectors.sdk.conformance import SinkConformance
from contracts.bericht.v1 import EXAMPLE
from contracts.cloudevents import source_urn
from contracts.errors import KnooppuntError
from contracts.events import build_event
from hub.delivery.history import idempotency_key
from tests.fakes.notify import (
    API_KEY,
    API_KEY_ENV,
    EMAIL_TEMPLATE,
    REPLY_TO_ID,
    SECRET,
    SENDER_ID,
    SERVICE_ID,
    SMS_TEMPLATE,
    FakeNotify,
    NotifyConformanceFake,
    running_notify,
)
from tests.kafka_under_test import free_port

TENANT = TenantInfo("0363", "00000001002564440000", "002564440")
NAME = "ontvangstbevestiging-parkeervergunning"
EMAIL = "jan.devries@example.nl"
PHONE = "+31 6 12345678"
BSN = "999993653"


@contextmanager
def _conformance_fake() -> Iterator[NotifyConformanceFake]:
    with running_notify() as fake:
        yield fake.conformance()


CONFORMANCE = SinkConformance(
    spec=NOTIFYNL,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "api_key_env"),
        ({"api_key_env": "not a variable"}, "api_key_env"),
        ({"api_key_env": "K", "base_url": "ftp://x.example"}, "base_url"),
        ({"api_key_env": "K", "templates": {"a": {"email": "not-a-uuid"}}}, "templates"),
        ({"api_key_env": "K", "templates": {"a": {}}}, "templates"),
        ({"api_key_env": "K", "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ],
    environ={API_KEY_ENV: API_KEY},
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    with running_notify() as fake:
        yield fake


def _payload(**changes: Any) -> dict[str, Any]:
    return {**EXAMPLE, **changes}


def _delivery(payload: dict[str, Any] | None = None, number: int = 1) -> Delivery:
    event, _ = build_event(
        BERICHT,
        payload or _payload(),
        tenant=TENANT.id,
        source=source_urn(TENANT.oin, "test"),
        event_id=f"b6e6c0e5-f93b-511d-b645-{number:012d}",
        time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    )
    return Delivery(event, TENANT.id, "berichten", idempotency_key(event, "berichten"), 1)


def _sink(
    fake: FakeNotify | None,
    environ: dict[str, str] | None = None,
    windows: SendWindows | None = None,
    **settings: object,
) -> NotifyNlSink:
    base: dict[str, Any] = (
        fake.conformance().settings()
        if fake
        else {"api_key_env": API_KEY_ENV, "templates": {NAME: {"email": EMAIL_TEMPLATE}}}
    )
    config = NotifyNlConfig.model_validate({**base, **settings})
    context = ConnectorContext(
        TENANT,
        "berichten",
        "notifynl",
        secrets=Secrets({API_KEY_ENV: API_KEY} if environ is None else environ),
    )
    return NotifyNlSink(config, context, windows or SendWindows())


async def _deliver(sink: NotifyNlSink, *deliveries: Delivery) -> list[Outcome]:
    try:
        return [await sink.deliver(d) for d in deliveries or (_delivery(),)]
    finally:
        await sink.close()


def _failed(outcome: Outcome) -> Failure:
    assert not isinstance(outcome, Delivered), f"delivered: {outcome}"
    return outcome


def _posts(fake: FakeNotify) -> list[Any]:
    return [r for r in fake.received() if r.method == "POST"]


# What is sent


async def test_an_email_request_is_sent_with_its_template_and_a_reference_free_of_data(
    notify: FakeNotify,
) -> None:
    before = int(time.time())
    [outcome] = await _deliver(_sink(notify))
    [lookup, post] = notify.received()
    [made] = notify.sent()
    key = _delivery().idempotency_key
    assert outcome == Delivered({"notification": made["id"]})
    assert (lookup.method, lookup.path, lookup.query) == (
        "GET",
        "/v2/notifications",
        {"reference": [key], "template_type": ["email"]},
    )
    assert (post.path, post.status) == ("/v2/notifications/email", 201)
    assert post.body == {
        "template_id": EMAIL_TEMPLATE,
        "email_address": EMAIL,
        "personalisation": EXAMPLE["personalisatie"],
        "reference": key,
        "email_reply_to_id": REPLY_TO_ID,
    }
    for request in (lookup, post):  # the fake verified each token; these are its claims
        assert request.claims is not None
        assert set(request.claims) == {"iss", "iat"}
        assert request.claims["iss"] == SERVICE_ID
        assert before <= request.claims["iat"] <= int(time.time())


async def test_a_text_message_goes_to_the_phone_number_with_the_sender(
    notify: FakeNotify,
) -> None:
    payload = _payload(kanaal="sms", ontvanger={"bsn": BSN, "telefoon": PHONE})
    sink = _sink(notify, sms_sender_id=SENDER_ID, email_reply_to_id=None)
    [outcome] = await _deliver(sink, _delivery(payload))
    [post] = _posts(notify)
    assert isinstance(outcome, Delivered), outcome
    assert post.path == "/v2/notifications/sms"
    assert post.body == {
        "template_id": SMS_TEMPLATE,
        "phone_number": PHONE,
        "personalisation": EXAMPLE["personalisatie"],
        "reference": _delivery(payload).idempotency_key,
        "sms_sender_id": SENDER_ID,
    }


async def test_an_events_own_template_uuid_is_used_only_when_allowed(notify: FakeNotify) -> None:
    payload = _payload(template_id=EMAIL_TEMPLATE)
    [allowed] = await _deliver(_sink(notify, event_template_ids=True), _delivery(payload))
    [refused] = await _deliver(_sink(notify), _delivery(payload, number=2))
    assert isinstance(allowed, Delivered), allowed
    assert [p.body["template_id"] for p in _posts(notify)] == [EMAIL_TEMPLATE]
    assert refused == Permanent(f"template {EMAIL_TEMPLATE!r} is not in templates")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_payload(template_id="onbekend"), "template 'onbekend' is not in templates"),
        (
            _payload(kanaal="brief"),
            "kanaal 'brief': this sink sends email and sms only",
        ),
        (
            _payload(ontvanger={"bsn": BSN}),
            "kanaal 'email' needs ontvanger.email; this sink does not look it up by BSN",
        ),
        (
            _payload(kanaal="sms", ontvanger={"bsn": BSN, "email": EMAIL}),
            "kanaal 'sms' needs ontvanger.telefoon; this sink does not look it up by BSN",
        ),
    ],
)
async def test_what_cannot_be_sent_is_permanent_and_nothing_is_asked(
    notify: FakeNotify, payload: dict[str, Any], reason: str
) -> None:
    [outcome] = await _deliver(_sink(notify), _delivery(payload))
    assert outcome == Permanent(reason)
    assert notify.received() == []


async def test_a_template_without_the_kanaals_id_is_permanent(notify: FakeNotify) -> None:
    sink = _sink(notify, templates={NAME: {"email": EMAIL_TEMPLATE}})
    payload = _payload(kanaal="sms", ontvanger={"telefoon": PHONE})
    [outcome] = await _deliver(sink, _delivery(payload))
    assert outcome == Permanent(f"template {NAME!r} has no sms template id in templates")
    assert notify.received() == []


# How Notify's answers classify


@pytest.mark.parametrize(
    ("payload", "settings", "error"),
    [
        # Addresses and numbers the contract lets through but Notify refuses.
        (_payload(ontvanger={"email": "jan@exa_mple.nl"}), {}, "ValidationError"),
        (_payload(kanaal="sms", ontvanger={"telefoon": "+31 6 1234"}), {}, "ValidationError"),
        (_payload(personalisatie={"referentie": "OF-7TZ2QX"}), {}, "BadRequestError"),
        (_payload(), {"templates": {NAME: {"email": SMS_TEMPLATE}}}, "BadRequestError"),
        (_payload(), {"email_reply_to_id": SENDER_ID}, "BadRequestError"),
    ],
)
async def test_notifys_refusals_are_permanent_naming_the_error_never_its_message(
    notify: FakeNotify, payload: dict[str, Any], settings: dict[str, Any], error: str
) -> None:
    [outcome] = await _deliver(_sink(notify, **settings), _delivery(payload))
    [post] = _posts(notify)
    assert (post.status, post.error) == (400, error)
    assert outcome == Permanent(f"HTTP 400 Bad Request: {error} (Notify refuses it)", code="400")
    assert notify.sent() == []


async def test_a_wrong_secret_is_a_permanent_auth_error(notify: FakeNotify) -> None:
    other = f"knooppunt_test-{SERVICE_ID}-{'0' * 8}-0000-4000-8000-{'0' * 12}"
    [outcome] = await _deliver(_sink(notify, {API_KEY_ENV: other}))
    [lookup] = notify.received()  # refused at the lookup: nothing was sent
    assert (lookup.status, lookup.error) == (403, "AuthError")
    assert outcome == Permanent(
        "HTTP 403 Forbidden: AuthError (check api_key_env and the clock)", code="403"
    )


async def test_the_fake_refuses_a_token_from_a_clock_more_than_30_s_off(
    notify: FakeNotify,
) -> None:
    key = parse_api_key(API_KEY)
    async with httpx.AsyncClient() as client:
        answers = [
            await client.get(
                f"{notify.url}/v2/notifications",
                headers={"Authorization": f"Bearer {notify_jwt(key, time.time() + skew)}"},
            )
            for skew in (-31, 31, -5)
        ]
        unsigned = await client.get(f"{notify.url}/v2/notifications")
        other_service = notify_jwt(NotifyApiKey(EMAIL_TEMPLATE, SECRET), time.time())
        wrong_iss = await client.get(
            f"{notify.url}/v2/notifications",
            headers={"Authorization": f"Bearer {other_service}"},
        )
    assert [a.status_code for a in answers] == [403, 403, 200]
    assert answers[0].json() == {
        "status_code": 403,
        "errors": [
            {
                "error": "AuthError",
                "message": "Error: Your system clock must be accurate to within 30 seconds",
            }
        ],
    }
    assert (unsigned.status_code, wrong_iss.status_code) == (401, 403)


async def test_429_is_throttled_with_its_retry_after(notify: FakeNotify) -> None:
    notify.fail_next(429, "RateLimitError", retry_after="7")
    notify.fail_next(429, "TooManyRequestsError")  # the daily limit: Notify gives no time
    sink = _sink(notify)
    outcomes = await _deliver(sink, _delivery(), _delivery(number=2), _delivery(number=3))
    assert outcomes[:2] == [
        Throttled(7.0, code="429", reason="HTTP 429 Too Many Requests: RateLimitError"),
        Throttled(None, code="429", reason="HTTP 429 Too Many Requests: TooManyRequestsError"),
    ]
    assert isinstance(outcomes[2], Delivered)
    assert len(notify.sent()) == 1


async def test_server_errors_and_a_failed_lookup_are_retryable(notify: FakeNotify) -> None:
    notify.fail_next(500, "Exception")
    notify.fail_next(503, "Exception", retry_after="30", on="list")
    outcomes = await _deliver(_sink(notify), _delivery(), _delivery(number=2))
    assert outcomes == [
        Retryable("HTTP 503 Service Unavailable: Exception", code="503", retry_after_s=30.0),
        Retryable("HTTP 500 Internal Server Error: Exception", code="500"),
    ]
    assert notify.sent() == []


async def test_no_answer_is_retryable() -> None:
    closed = free_port()  # bound and closed again: nobody listens there
    sink = _sink(None, base_url=f"http://127.0.0.1:{closed}")
    [outcome] = await _deliver(sink)
    failure = _failed(outcome)
    assert isinstance(failure, Retryable)
    assert (failure.code, failure.reason.startswith("connection refused")) == (None, True)


async def test_a_missing_or_malformed_api_key_is_permanent_and_named(notify: FakeNotify) -> None:
    [missing] = await _deliver(_sink(notify, {"OTHER": API_KEY}))
    [malformed] = await _deliver(_sink(notify, {API_KEY_ENV: "hunter2-not-a-key"}))
    assert missing == Permanent(f"environment variable {API_KEY_ENV} is not set (api_key_env)")
    assert isinstance(malformed, Permanent)
    assert malformed.reason.startswith(f"environment variable {API_KEY_ENV}: not a Notify API key")
    assert "hunter2" not in malformed.reason
    assert notify.received() == []


async def test_the_start_is_refused_without_a_usable_api_key() -> None:
    with pytest.raises(SecretMissingError) as missing:
        await _sink(None, {}).open()
    with pytest.raises(KnooppuntError) as malformed:
        await _sink(None, {API_KEY_ENV: "hunter2"}).open()
    prefix = f"tenant 0363, destination berichten: api_key_env: environment variable {API_KEY_ENV}"
    assert str(missing.value) == f"{prefix} is not set"
    assert str(malformed.value).startswith(f"{prefix}: not a Notify API key")
    assert "hunter2" not in str(malformed.value)


async def test_check_says_whether_notify_takes_the_key(notify: FakeNotify) -> None:
    good = _sink(notify)
    bad = _sink(notify, {API_KEY_ENV: f"k-{SERVICE_ID}-{EMAIL_TEMPLATE}"})
    healthy, refused = await good.check(), await bad.check()
    await good.close()
    await bad.close()
    assert healthy.ok, healthy
    assert not refused.ok
    assert "AuthError" in refused.detail
    assert notify.sent() == []


# Redelivery: Notify has no idempotency key, the sink looks up its reference first


async def test_a_send_whose_answer_was_lost_is_not_sent_again(notify: FakeNotify) -> None:
    notify.slow_after_sending_s = 1.0  # Notify makes it, the answer comes too late
    [lost] = await _deliver(_sink(notify, timeout_s=0.2))
    notify.slow_after_sending_s = 0.0
    [redelivered] = await _deliver(_sink(notify))
    [made] = notify.sent()
    assert isinstance(lost, Retryable), lost
    assert lost.reason.startswith("timeout"), lost
    assert redelivered == Delivered({"notification": made["id"]})
    assert len(_posts(notify)) == 1


async def test_a_message_of_the_other_kanaal_with_the_reference_does_not_count(
    notify: FakeNotify,
) -> None:
    sms = _payload(kanaal="sms", ontvanger={"telefoon": PHONE})
    [by_sms] = await _deliver(_sink(notify), _delivery(sms))
    [by_email] = await _deliver(_sink(notify), _delivery())  # the same event id and key
    assert isinstance(by_sms, Delivered)
    assert isinstance(by_email, Delivered)
    assert [n["type"] for n in notify.sent()] == ["sms", "email"]


# The client-side rate limit


def test_a_send_window_allows_per_minute_sends_in_any_60_seconds() -> None:
    now = [1000.0]
    window = SendWindow(3, clock=lambda: now[0])
    sent = []
    for second in (1000.0, 1010.0, 1020.0):
        now[0] = second
        sent.append(window.try_send())
    assert sent == [None, None, None]
    now[0] = 1030.0
    assert window.try_send() == pytest.approx(30.0)  # the send at 1000 leaves at 1060
    now[0] = 1060.0
    assert window.try_send() is None
    assert window.try_send() == pytest.approx(10.0)  # the refusal counted nothing
    now[0] = 1070.0
    assert window.try_send() is None


def test_a_lowered_limit_waits_for_enough_sends_to_leave() -> None:
    now = [0.0]
    windows = SendWindows(clock=lambda: now[0])
    window = windows.window("https://notify.example", SERVICE_ID, 3)
    for second in (0.0, 10.0, 20.0):
        now[0] = second
        assert window.try_send() is None
    now[0] = 30.0
    assert windows.window("https://notify.example", SERVICE_ID, 2) is window
    assert window.try_send() == pytest.approx(40.0)  # until the send at 10 leaves, at 70
    assert windows.window("https://notify.example", "other-service", 2) is not window


async def test_a_burst_beyond_the_limit_is_throttled_before_notify_says_429() -> None:
    with running_notify(rate_limit=3) as notify:
        windows = SendWindows()
        first, second = (_sink(notify, windows=windows, rate_limit_per_minute=3) for _ in "ab")
        outcomes = await _deliver(first, *(_delivery(number=n) for n in range(1, 4)))
        outcomes += await _deliver(second, _delivery(number=4), _delivery(number=5))
        unlimited = _sink(notify, windows=SendWindows(), rate_limit_per_minute=10)
        [refused] = await _deliver(unlimited, _delivery(number=6))
    assert [type(o).__name__ for o in outcomes] == ["Delivered"] * 3 + ["Throttled"] * 2
    for throttled in outcomes[3:]:  # two destinations sharing a key share the window
        assert isinstance(throttled, Throttled)
        assert throttled.code is None  # ours, not Notify's
        assert throttled.retry_after_s is not None
        assert 59 < throttled.retry_after_s <= 60
    assert [p.status for p in _posts(notify)] == [201, 201, 201, 429]  # the 429: unlimited's
    assert isinstance(refused, Throttled)
    assert refused.code == "429"


# Personal data


async def test_no_address_number_bsn_or_personalisation_in_logs_or_reasons(
    notify: FakeNotify,
) -> None:
    notify.fail_next(400, "ValidationError")
    secret_value = "Geheim-Waarde-42"
    payloads = [
        _payload(personalisatie={"naam": secret_value}),
        _payload(ontvanger={"email": "jan@exa_mple.nl"}, personalisatie={"naam": secret_value}),
        _payload(kanaal="sms", ontvanger={"telefoon": "+31 6 1234"}),
        _payload(ontvanger={"bsn": BSN}),
    ]
    with capture_logs() as logs:
        outcomes = await _deliver(
            _sink(notify), *(_delivery(p, number=n) for n, p in enumerate(payloads, 1))
        )
    reasons = " ".join(_failed(o).reason for o in outcomes)
    assert len(reasons) > 0
    for value in (secret_value, EMAIL, "exa_mple", "6 1234", BSN, "Not a valid", "digits"):
        assert value not in reasons
    assert logs == []  # the sink logs nothing, so nothing it could leak


# Config and declaration


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "api_key_env"),
        ({"api_key_env": "K", "base_url": "https://u:p@notify.example"}, "base_url"),
        ({"api_key_env": "K", "base_url": "https://notify.example/?x=1"}, "base_url"),
        ({"api_key_env": "K", "templates": {"": {"email": EMAIL_TEMPLATE}}}, "templates"),
        ({"api_key_env": "K", "email_reply_to_id": "reply@x.example"}, "email_reply_to_id"),
        ({"api_key_env": "K", "sms_sender_id": "Gemeente"}, "sms_sender_id"),
        ({"api_key_env": "K", "timeout_s": 0}, "timeout_s"),
        ({"api_key_env": "K", "api_key": API_KEY}, "api_key"),
    ],
)
def test_config_mistakes_name_the_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        NotifyNlConfig.model_validate(settings)
    assert [error["loc"][0] for error in caught.value.errors()] == [field]


@pytest.mark.parametrize(
    "value",
    ["", "no-dashes", f"{SERVICE_ID}-{SECRET}", f"k-{SERVICE_ID.upper()}-{SECRET}", "x" * 80],
)
def test_a_value_that_is_no_api_key_is_refused_without_repeating_it(value: str) -> None:
    with pytest.raises(ValueError, match="not a Notify API key") as caught:
        parse_api_key(value)
    assert value == "" or value not in str(caught.value)


def test_the_api_key_splits_into_service_and_secret_and_signs_hs256() -> None:
    key = parse_api_key(f"my-team-key-{SERVICE_ID}-{SECRET}")
    assert (key.service_id, key.secret) == (SERVICE_ID, SECRET)
    assert SECRET not in repr(key)
    token = notify_jwt(key, 1_764_410_400.9)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iat": False}) == {
        "iss": SERVICE_ID,
        "iat": 1_764_410_400,
    }


def test_the_connector_declares_itself_as_a_sink_of_message_requests() -> None:
    assert (NOTIFYNL.name, NOTIFYNL.kind, NOTIFYNL.config) == ("notifynl", "sink", NotifyNlConfig)
    assert NOTIFYNL.pushes
    assert NOTIFYNL.accepts_contract("nl.gemeente.bericht.verzoek-aangemaakt")
    assert not NOTIFYNL.accepts_contract("nl.gemeente.formulier.ingediend")
