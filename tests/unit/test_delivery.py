from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from connectors.sink import DeliveryError
from contracts.cloudevents import source_urn
from contracts.errors import ContractError
from contracts.events import build_event
from contracts.formulier import v2
from contracts.registry import contract_for
from hub.delivery.dead_letters import DeadLetterRecord
from hub.delivery.history import (
    DeadLetter,
    Retry,
    due_in_s,
    failure_headers,
    fresh_history,
    history_of,
    idempotency_key,
    next_step,
)
from hub.kafka.headers import text_headers

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
    assert beyond == Retry(2, "5m", NOW + timedelta(hours=1))


def test_history_travels_in_headers_without_losing_the_original_place() -> None:
    first = _record({"ce_id": "1", "ce_tenant": "0363"})
    history = fresh_history(first, "zaaksysteem")
    history = replace(history, attempts=1)
    error = DeliveryError("HTTP 503 Service Unavailable", permanent=False, status=503)
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
        "values": {"naam": "Jan de Vries", "kenteken": "AB-123-C"},
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
    assert shown["values"] == {"naam": "[redacted]", "kenteken": "AB-123-C"}  # the safety net
    assert shown["form"]["id"] == "parkeervergunning"
    assert "68750110" not in str(letter.shown())
