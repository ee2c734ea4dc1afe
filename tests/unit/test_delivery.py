from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sdk import Delivery, Permanent, Retryable, Throttled
from connectors.sdk.outcomes import MAX_PROGRESS_BYTES
from contracts.cloudevents import source_urn
from contracts.errors import ContractError
from contracts.events import build_event
from contracts.formulier import v2
from contracts.registry import contract_for
from hub.config import HubConfig, duration_seconds
from hub.delivery.dead_letters import DeadLetterRecord, select
from hub.delivery.history import (
    MAX_LOGGED_ATTEMPTS,
    AttemptRecord,
    DeadLetter,
    DeliveryError,
    Retry,
    attempt_log_of,
    attempt_outcome,
    due_in_s,
    failure_headers,
    fresh_history,
    history_of,
    idempotency_key,
    next_progress,
    next_step,
    progress_of,
)
from hub.delivery.worker import DeliveryWorkers
from hub.kafka.headers import text_headers
from hub.kafka.producing import RecordProducer
from hub.kafka.topics import TopicNames
from hub.observability.metrics import BoundedLabel, Metrics
from tests.integration.helpers import tenant_entry

DELAYS = ["10s", "1m", "5m"]
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SPEC = contract_for("nl.gemeente.formulier.ingediend", 1)


def _record(headers: dict[str, str], offset: int = 7) -> Any:
    return SimpleNamespace(
        topic="knooppunt.deliver.0363.zaaksysteem",
        partition=2,
        offset=offset,
        key=b"0363:x",
        value=b"{}",
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


def test_idempotency_key_is_stable_per_event_and_destination() -> None:
    event, _ = build_event(SPEC, SPEC.example, tenant="0363", source=source_urn("0" * 20, "t"))
    assert idempotency_key(event, "zaaksysteem") == idempotency_key(event, "zaaksysteem")
    assert idempotency_key(event, "zaaksysteem") != idempotency_key(event, "archief")


def test_retryable_failures_walk_the_tiers_then_dead_letter() -> None:
    history = fresh_history(_record({"ce_id": "1"}), "zaaksysteem")
    steps = []
    for attempt in range(1, 5):
        history = replace(history, attempts=attempt)
        step = next_step(history, False, None, DELAYS, NOW)
        steps.append(step)
        if isinstance(step, Retry):
            history = replace(history, tier=step.tier)
    assert steps[:3] == [
        Retry(0, "10s", NOW + timedelta(seconds=10)),
        Retry(1, "1m", NOW + timedelta(minutes=1)),
        Retry(2, "5m", NOW + timedelta(minutes=5)),
    ]
    assert steps[3] == DeadLetter("retries exhausted after 4 attempts")


def test_permanent_failures_go_straight_to_dead_letters() -> None:
    history = fresh_history(_record({}), "zaaksysteem")
    assert isinstance(next_step(history, True, None, DELAYS, NOW), DeadLetter)


def test_retry_after_longer_than_the_next_tier_is_honoured() -> None:
    history = fresh_history(_record({}), "zaaksysteem")
    step = next_step(history, False, 90.0, DELAYS, NOW)
    assert step == Retry(2, "5m", NOW + timedelta(minutes=5))
    beyond = next_step(history, False, 3600.0, DELAYS, NOW)
    assert beyond == Retry(2, "5m", NOW + timedelta(minutes=5))


@given(
    retry_after=st.none() | st.floats(min_value=0, max_value=1e30, allow_nan=False),
    tier=st.integers(min_value=-1, max_value=len(DELAYS) - 2),
)
def test_a_retry_is_due_after_its_tiers_delay_whatever_the_back_office_asks(
    retry_after: float | None, tier: int
) -> None:
    """Reported: a back office answering Retry-After: <a date in 2999> put a record due in 2999
    at the head of a shared tier, and no tenant's retry behind it ran again (also not after a
    restart). A tier's records are due in the order they arrive: each after the tier's delay."""
    history = replace(fresh_history(_record({}), "zaaksysteem"), tier=tier)
    step = next_step(history, False, retry_after, DELAYS, NOW)
    assert isinstance(step, Retry)
    assert step.tier > tier
    assert step.retry_at == NOW + timedelta(seconds=duration_seconds(DELAYS[step.tier]))


def test_history_travels_in_headers_without_losing_the_original_place() -> None:
    first = _record({"ce_id": "1", "ce_tenant": "0363"})
    history = fresh_history(first, "zaaksysteem")
    history = replace(history, attempts=1)
    error = DeliveryError("HTTP 503 Service Unavailable", permanent=False, status="503")
    retry = Retry(0, "10s", NOW + timedelta(seconds=10))
    raw = failure_headers(first, history, error, NOW, retry)
    headers = text_headers(raw)
    assert headers["ce_id"] == "1"
    assert headers["knooppunt_error_status"] == "503"
    assert headers["knooppunt_first_failure"] == NOW.isoformat()
    assert due_in_s(headers, NOW) == 10.0

    again = history_of(_record(headers, offset=0))  # the record as a retry tier reads it
    assert again.attempts == 1
    assert again.tier == 0
    assert again.original == ("knooppunt.deliver.0363.zaaksysteem", 2, 7)
    assert again.target_topic == "knooppunt.deliver.0363.zaaksysteem"
    assert again.first_failure == NOW


def test_error_messages_are_redacted_in_headers() -> None:
    error = DeliveryError("rejected bsn 999993653", permanent=True)
    raw = failure_headers(_record({}), fresh_history(_record({}), "x"), error, NOW)
    assert "999993653" not in text_headers(raw)["knooppunt_error_message"]


def test_failure_headers_keep_the_original_headers_byte_for_byte() -> None:
    record = _record({"ce_id": "1"})
    record.headers += [("x-trace", b"\xc3\x28"), ("x-null", None), ("knooppunt_attempts", b"9")]
    raw = failure_headers(
        record, fresh_history(record, "x"), DeliveryError("x", permanent=True), NOW
    )
    assert ("x-trace", b"\xc3\x28") in raw
    assert ("x-null", None) in raw
    assert ("knooppunt_attempts", b"9") not in raw  # history is the hub's, never carried over


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"knooppunt_destination": "zaken"},
        {
            "knooppunt_destination": "zaken",
            "knooppunt_target_topic": "t",
            "knooppunt_original_topic": "t",
            "knooppunt_original_partition": "x",
            "knooppunt_original_offset": "1",
            "knooppunt_attempts": "1",
        },
        {
            "knooppunt_destination": "zaken",
            "knooppunt_target_topic": "t",
            "knooppunt_original_topic": "t",
            "knooppunt_original_partition": "1",
            "knooppunt_original_offset": "1",
            "knooppunt_attempts": "١",
        },
    ],
)
def test_a_retry_record_without_a_readable_history_is_a_contract_error(
    headers: dict[str, str],
) -> None:
    with pytest.raises(ContractError) as caught:
        history_of(_record(headers))
    assert caught.value.field is not None
    assert caught.value.field.startswith("knooppunt_")


def test_a_shown_dead_letter_redacts_what_its_contract_declares() -> None:
    spec = contract_for("nl.gemeente.formulier.ingediend", 2)
    payload = {
        **v2.EXAMPLE,
        "authentication": {
            "method": "eherkenning",
            "legal_subject": {"type": "kvk", "value": "68750110"},  # no key or 11-proef betrays it
            "acting_subject": {"type": "pseudo", "value": "s00000000:12345"},
        },
        # a name under a key no list foresees (a new user's trial found it shown by `tail`)
        "values": {"naam": "Jan de Vries", "kenteken": "AB-123-C", "contact": {"wie": "Jan"}},
    }
    event, key = build_event(spec, payload, tenant="0363", source=source_urn("0" * 20, "t"))
    letter = DeadLetterRecord(
        topic="knooppunt.dlq.0363",
        partition=0,
        offset=3,
        timestamp=NOW,
        key=key,
        value=event.data,
        raw_headers=tuple(event.kafka_headers()),
    )
    shown = letter.shown()["payload"]
    assert shown["authentication"]["legal_subject"] == {"type": "kvk", "value": "[redacted]"}
    assert shown["authentication"]["acting_subject"]["value"] == "[redacted]"
    assert shown["attachments"][0]["name"] == "[redacted]"
    # what a citizen typed is blanked whatever its key; the keys show the form's shape
    assert shown["values"] == dict.fromkeys(("naam", "kenteken", "contact"), "[redacted]")
    assert shown["form"]["id"] == "parkeervergunning"
    assert "68750110" not in str(letter.shown())


@pytest.mark.parametrize(
    ("failure", "permanent", "retry_after_s", "status"),
    [
        (Retryable("HTTP 503 Service Unavailable", "503", 30.0), False, 30.0, "503"),
        (Throttled(7.0, "429"), False, 7.0, "429"),
        (Permanent("soap:Client fault", "soap:Client"), True, None, "soap:Client"),
        (Retryable("timeout after 10 s (read)"), False, None, None),
    ],
)
def test_each_failed_outcome_maps_to_a_retry_or_a_dead_letter(
    failure: Retryable | Throttled | Permanent,
    permanent: bool,
    retry_after_s: float | None,
    status: str | None,
) -> None:
    error = DeliveryError.of(failure)
    assert (error.permanent, error.retry_after_s, error.status) == (
        permanent,
        retry_after_s,
        status,
    )
    assert str(error) == failure.reason
    step = next_step(
        fresh_history(_record({}), "x"), error.permanent, error.retry_after_s, DELAYS, NOW
    )
    assert isinstance(step, DeadLetter) == permanent


def test_progress_of_a_multi_step_delivery_reaches_the_next_attempt() -> None:
    first = _record({"ce_id": "1", "ce_tenant": "0363"})
    history = replace(fresh_history(first, "zaaksysteem"), attempts=1)
    assert history.progress == {}
    failure = Retryable("HTTP 503 on rol", "503", progress={"zaak": "https://z.example/zaken/1"})
    history = replace(history, progress=next_progress(history, failure))
    retry = Retry(0, "10s", NOW + timedelta(seconds=10))
    headers = text_headers(failure_headers(first, history, DeliveryError.of(failure), NOW, retry))
    assert headers["knooppunt_progress"] == '{"zaak":"https://z.example/zaken/1"}'

    second = history_of(_record(headers, offset=0))
    assert second.progress == {"zaak": "https://z.example/zaken/1"}
    # The second attempt gets further; what the first made is kept.
    more = Retryable("HTTP 503 on document", "503", progress={"rol": "https://z.example/rollen/2"})
    assert next_progress(second, more) == {
        "zaak": "https://z.example/zaken/1",
        "rol": "https://z.example/rollen/2",
    }
    # A failure that reports nothing keeps what there was; a permanent one too (dead letter).
    assert next_progress(second, Throttled(5.0)) == second.progress
    assert next_progress(second, Permanent("HTTP 400")) == second.progress


def test_no_progress_no_header_and_a_damaged_one_restarts_the_steps() -> None:
    history = fresh_history(_record({}), "x")
    raw = failure_headers(_record({}), history, DeliveryError.of(Retryable("x")), NOW)
    assert "knooppunt_progress" not in text_headers(raw)
    assert progress_of(None) == {}
    assert progress_of("{not json") == {}
    assert progress_of('["zaak"]') == {}
    assert progress_of('{"zaak": 1}') == {}


def test_progress_is_bounded() -> None:
    with pytest.raises(ValueError, match="at most 4096"):
        Retryable("x", progress={"documents": "u" * MAX_PROGRESS_BYTES})


def test_step_keys_are_stable_per_delivery_and_step() -> None:
    event, _ = build_event(SPEC, SPEC.example, tenant="0363", source=source_urn("0" * 20, "t"))
    key = idempotency_key(event, "zaaksysteem")
    first = Delivery(event, "0363", "zaaksysteem", key, attempt=1)
    later = Delivery(event, "0363", "zaaksysteem", key, attempt=3, progress={"zaak": "u"})
    other = Delivery(event, "0363", "archief", idempotency_key(event, "archief"), attempt=1)
    assert first.step_key("rol") == later.step_key("rol")
    assert first.step_key("rol") != first.step_key("zaak")
    assert first.step_key("rol") != other.step_key("rol")


def test_a_shown_dead_letter_shows_every_header_even_bytes_that_are_not_utf8() -> None:
    """Found by a new user: `dlq show` left out the very header that caused the dead letter."""
    letter = DeadLetterRecord(
        topic="knooppunt.dlq.0363",
        partition=0,
        offset=3,
        timestamp=NOW,
        key=b"0363:x",
        value=b"{}",
        raw_headers=(("ce_myext", b"\xc3("), ("x-null", None), ("ce_id", b"1")),
    )
    headers = letter.shown()["headers"]
    assert headers["ce_myext"] == "\\xc3("
    assert headers["x-null"] is None
    assert headers["ce_id"] == "1"


def test_since_without_an_offset_is_local_time() -> None:
    """Reported: the README's `dlq list --since 2026-11-29T00:00` failed with "can't compare
    offset-naive and offset-aware datetimes"."""
    letters = [
        DeadLetterRecord("knooppunt.dlq.0363", 0, n, NOW + timedelta(hours=n), None, b"{}", ())
        for n in range(3)
    ]
    local_noon = (NOW + timedelta(hours=1)).astimezone().replace(tzinfo=None)
    assert [letter.offset for letter in select(letters, since=local_noon)] == [1, 2]


def test_a_destination_may_set_its_own_max_in_flight() -> None:
    """Issue 12 asks for max_in_flight per destination; only the policy's (for all) existed."""
    tenant = tenant_entry(
        "0363", {"zaken": "https://bo.example/in", "archief": "https://bo.example/in"}
    )
    tenant["destinations"][0]["max_in_flight"] = 2
    config = HubConfig.model_validate({"tenants": [tenant], "delivery": {"max_in_flight": 5}})
    names = TopicNames("")
    workers = DeliveryWorkers(RecordProducer("127.0.0.1:9"), config, Metrics(), names)
    engine = workers.engine("127.0.0.1:9")
    limits = {t.destination: t.max_in_flight for t in engine.targets.values()}
    assert limits == {"zaken": 2, "archief": 5}


def test_each_failed_attempt_travels_in_the_attempt_log_newest_last() -> None:
    record = _record({"ce_id": "1", "ce_tenant": "0363"})
    history = fresh_history(record, "zaaksysteem")
    failures: list[tuple[Retryable | Throttled, int]] = [
        (Retryable("HTTP 503", "503"), 120),
        (Throttled(30.0, "429"), 8),
    ]
    for number, (failure, ms) in enumerate(failures, start=1):
        logged = AttemptRecord(number, NOW, attempt_outcome(failure), failure.code or "", ms)
        history = replace(history, attempts=number, attempt_log=(*history.attempt_log, logged))
        retry = Retry(0, "10s", NOW + timedelta(seconds=10))
        raw = failure_headers(record, history, DeliveryError.of(failure), NOW, retry)
        history = history_of(_record(text_headers(raw), offset=0))
    assert [(a.number, a.outcome, a.code, a.duration_ms) for a in history.attempt_log] == [
        (1, "retryable", "503", 120),
        (2, "throttled", "429", 8),
    ]
    letter = DeadLetterRecord("knooppunt.dlq.0363", 0, 3, NOW, b"k", b"{}", tuple(raw))
    assert letter.shown()["attempts"][1] == {
        "n": 2,
        "at": "2026-11-29T12:00:00.000+00:00",
        "outcome": "throttled",
        "code": "429",
        "ms": 8,
    }


def test_the_attempt_log_is_bounded_and_a_damaged_one_is_never_fatal() -> None:
    record = _record({})
    many = tuple(AttemptRecord(n, NOW, "retryable", "503", 1) for n in range(1, 51))
    history = replace(fresh_history(record, "x"), attempts=50, attempt_log=many)
    raw = failure_headers(record, history, DeliveryError.of(Retryable("x")), NOW)
    kept = attempt_log_of(text_headers(raw)["knooppunt_attempt_log"])
    assert [a.number for a in kept] == list(range(51 - MAX_LOGGED_ATTEMPTS, 51))
    assert len(text_headers(raw)["knooppunt_attempt_log"]) < 2000
    assert "knooppunt_attempt_log" not in text_headers(
        failure_headers(record, fresh_history(record, "x"), DeliveryError("x", permanent=True), NOW)
    )
    assert attempt_log_of("{not json") == ()
    assert attempt_log_of('{"n": 1}') == ()
    good = (
        '{"n": 2, "at": "2026-11-29T12:00:00+00:00", "outcome": "retryable", "code": "", "ms": 3}'
    )
    damaged = f'[{{"n": "1"}}, {{"n": true, "at": "x"}}, {good}]'
    assert [a.number for a in attempt_log_of(damaged)] == [2]


@given(st.text(max_size=200))
def test_any_attempt_log_header_reads_without_raising(header: str) -> None:
    assert isinstance(attempt_log_of(header), tuple)


def test_failure_codes_as_metric_labels_stay_bounded() -> None:
    label = BoundedLabel(limit=3)
    assert [label(c) for c in ("503", "", "soap:Server", "Fo02", "451")] == [
        "503",
        "none",
        "soap:Server",
        "Fo02",
        "other",
    ]
    assert label("503") == "503"  # seen before: still itself
    assert BoundedLabel()("a code with spaces") == "other"
    assert BoundedLabel()("x" * 25) == "other"


def test_a_throttled_attempt_keeps_what_it_made_for_the_next() -> None:
    history = replace(fresh_history(_record({}), "x"), progress={"zaak": "https://z/1"})
    throttled = Throttled(30.0, "429", progress={"rol": "https://z/rollen/2"})
    assert next_progress(history, throttled) == {"zaak": "https://z/1", "rol": "https://z/rollen/2"}
    with pytest.raises(ValueError, match="at most 4096"):
        Throttled(progress={"documents": "u" * MAX_PROGRESS_BYTES})
