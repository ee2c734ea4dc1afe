"""Delivery decisions, pure: idempotency keys, where a failed delivery goes next, and the headers
that carry a delivery's history from retry tier to retry tier and into dead letters.

The history travels in ``knooppunt_*`` headers next to the event's own ``ce_*`` headers:

| header | meaning |
| --- | --- |
| ``knooppunt_destination`` | the tenant's destination the event is for |
| ``knooppunt_target_topic`` | the destination topic it was read from (where a replay goes) |
| ``knooppunt_attempts`` | delivery attempts made so far |
| ``knooppunt_tier`` | index of the retry tier it is in (0 = the first delay) |
| ``knooppunt_retry_at`` | epoch milliseconds before which it must not be tried again |
| ``knooppunt_first_failure`` / ``knooppunt_last_failure`` | RFC 3339 times |
| ``knooppunt_error_class`` / ``_error_message`` / ``_error_status`` | the last failure |
| ``knooppunt_error_field`` | the field a contract error names (router dead letters) |
| ``knooppunt_progress`` | a multi-step delivery's progress: JSON, step -> reference, <= 4 KiB |
| ``knooppunt_attempt_log`` | failed attempts, newest last (<= 20): JSON, n at outcome code ms |
| ``knooppunt_original_topic`` / ``_partition`` / ``_offset`` | where the record first was |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from connectors.sdk.outcomes import Permanent, Retryable, Throttled, encode_progress
from contracts.errors import ContractError
from hub.config import duration_seconds
from hub.errors import KnooppuntError
from hub.kafka.headers import text_headers
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from aiokafka import ConsumerRecord

    from connectors.sdk.outcomes import Failure, Outcome
    from contracts.cloudevents import CloudEvent

__all__ = [
    "MAX_LOGGED_ATTEMPTS",
    "AttemptRecord",
    "DeadLetter",
    "DeliveryError",
    "DeliveryHistory",
    "Retry",
    "attempt_log_of",
    "attempt_outcome",
    "encode_attempt_log",
    "failure_headers",
    "fresh_history",
    "history_of",
    "idempotency_key",
    "next_progress",
    "next_step",
    "progress_of",
]

_KEY_NAMESPACE = uuid.UUID("0b6f5a0e-3c1d-4d8e-9f2a-6b7c8d9e0f1a")
PREFIX = "knooppunt_"
# The newest failed attempts a record carries (about 90 bytes each): enough to see a pattern
# (a back office failing every night, a 503 turning into a 400), bounded however long it retries.
MAX_LOGGED_ATTEMPTS = 20


def idempotency_key(event: CloudEvent, destination: str) -> str:
    """The same for every attempt and every redelivery of one event to one destination."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{event.source}\n{event.id}\n{destination}"))


class DeliveryError(KnooppuntError):
    """A sink's failed outcome as the hub records it (in headers, logs and dead letters), or a
    sink's unexpected exception (retryable). ``status`` is the outcome's ``code`` (an HTTP
    status, a SOAP fault code, an SMTP reply)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after_s: float | None = None,
        status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent, self.retry_after_s, self.status = permanent, retry_after_s, status

    @classmethod
    def of(cls, failure: Failure) -> DeliveryError:
        """Permanent: dead letters at once; Retryable and Throttled: the retry tiers."""
        retry_after = None if isinstance(failure, Permanent) else failure.retry_after_s
        return cls(
            failure.reason,
            permanent=isinstance(failure, Permanent),
            retry_after_s=retry_after,
            status=failure.code,
        )


@dataclass(frozen=True)
class AttemptRecord:
    """One failed delivery attempt as its record remembers it (``knooppunt_attempt_log``).

    ``outcome``: retryable, throttled, permanent, or error (the sink raised); ``code`` the
    outcome's code (an HTTP status, a SOAP fault code, an SMTP reply; "" when none);
    ``duration_ms`` how long the sink's ``deliver`` took, in whole milliseconds.
    """

    number: int
    at: datetime
    outcome: str
    code: str
    duration_ms: int

    def as_json(self) -> dict[str, object]:
        return {
            "n": self.number,
            "at": self.at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "outcome": self.outcome,
            "code": self.code,
            "ms": self.duration_ms,
        }


def attempt_outcome(outcome: Outcome) -> str:
    """The name an attempt's outcome has in metrics and the attempt log."""
    if isinstance(outcome, Throttled):
        return "throttled"
    if isinstance(outcome, Retryable):
        return "retryable"
    return "permanent" if isinstance(outcome, Permanent) else "delivered"


def encode_attempt_log(attempts: Sequence[AttemptRecord]) -> str:
    """The newest MAX_LOGGED_ATTEMPTS attempts as compact JSON (the header's value)."""
    newest = attempts[-MAX_LOGGED_ATTEMPTS:]
    return orjson.dumps([a.as_json() for a in newest]).decode()


def attempt_log_of(header: str | None) -> tuple[AttemptRecord, ...]:
    """The ``knooppunt_attempt_log`` header read back; entries that are not what
    ``encode_attempt_log`` writes are left out (a damaged log never stops a delivery)."""
    try:
        value = orjson.loads(header or "[]")
    except orjson.JSONDecodeError:
        return ()
    if not isinstance(value, list):
        return ()
    read: list[AttemptRecord] = []
    for item in value[-MAX_LOGGED_ATTEMPTS:]:
        try:
            read.append(
                AttemptRecord(
                    number=_whole(item["n"]),
                    at=datetime.fromisoformat(item["at"]),
                    outcome=str(item["outcome"])[:20],
                    code=str(item["code"])[:40],
                    duration_ms=_whole(item["ms"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(read)


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not a whole number")
    return value


@dataclass(frozen=True)
class DeliveryHistory:
    """What happened to a delivery so far (none of it on a first attempt). ``progress``: what
    earlier attempts of a multi-step delivery made (``Retryable.progress``)."""

    destination: str
    target_topic: str
    original: tuple[str, int, int]  # topic, partition, offset where the record first was
    attempts: int = 0
    tier: int = -1
    first_failure: datetime | None = None
    progress: Mapping[str, str] = field(default_factory=dict)
    attempt_log: tuple[AttemptRecord, ...] = ()


def progress_of(header: str | None) -> dict[str, str]:
    """The ``knooppunt_progress`` header read back; {} when absent or not a JSON object of
    strings (a damaged header restarts the steps, which are idempotent by their step keys)."""
    try:
        value = orjson.loads(header or "{}")
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return {}
    return value


def next_progress(history: DeliveryHistory, failure: Failure) -> dict[str, str]:
    """The progress to hand the next attempt: what the delivery had, updated by what this
    attempt reports (a Retryable's or Throttled's ``progress``); unchanged by a Permanent."""
    reported = failure.progress if isinstance(failure, Retryable | Throttled) else {}
    return {**history.progress, **reported}


def fresh_history(record: ConsumerRecord, destination: str) -> DeliveryHistory:
    """The history of a record read from its destination topic: no attempts yet. ``knooppunt_*``
    headers there are never the hub's own (the router and replay strip them), so none is read."""
    return DeliveryHistory(
        destination, record.topic, (record.topic, record.partition, record.offset)
    )


def history_of(record: ConsumerRecord) -> DeliveryHistory:
    """The history in the headers of a record read from a retry tier.

    Raises ContractError naming the header when one is missing or malformed (a record the hub
    did not write), so the caller dead-letters it instead of stalling on it.
    """
    headers = text_headers(record.headers)

    def need(name: str) -> str:
        value = headers.get(f"{PREFIX}{name}")
        if not value:
            raise ContractError("missing delivery history header", f"{PREFIX}{name}")
        return value

    def number(name: str, default: str | None = None) -> int:
        text = headers.get(f"{PREFIX}{name}", default) if default is not None else need(name)
        if text is None or not text.lstrip("-").isdigit() or not text.isascii():
            raise ContractError("not a whole number", f"{PREFIX}{name}")
        return int(text)

    first = headers.get(f"{PREFIX}first_failure")
    try:
        first_failure = datetime.fromisoformat(first) if first else None
    except ValueError as exc:
        raise ContractError("not an ISO 8601 time", f"{PREFIX}first_failure") from exc
    return DeliveryHistory(
        destination=need("destination"),
        target_topic=need("target_topic"),
        original=(need("original_topic"), number("original_partition"), number("original_offset")),
        attempts=number("attempts"),
        tier=number("tier", "-1"),
        first_failure=first_failure,
        progress=progress_of(headers.get(f"{PREFIX}progress")),
        attempt_log=attempt_log_of(headers.get(f"{PREFIX}attempt_log")),
    )


@dataclass(frozen=True)
class Retry:
    tier: int
    delay: str  # the tier's name, e.g. "1m": topic knooppunt.retry.1m
    retry_at: datetime


@dataclass(frozen=True)
class DeadLetter:
    reason: str


def next_step(
    history: DeliveryHistory,
    permanent: bool,
    retry_after_s: float | None,
    delays: Sequence[str],
    now: datetime,
) -> Retry | DeadLetter:
    """After a failed attempt: the next retry tier, or dead letters.

    A permanent failure goes to dead letters at once; a retryable one to the next tier, or to a
    later tier when the back office asked (Retry-After) for a longer wait than the next tier's;
    after the last tier, dead letters.

    The wait is always the chosen tier's own delay, never the back office's wish beyond it: a
    tier is shared by every destination and keeps its records in order, so a record due later
    than the tier's delay would hold up every record behind it (a Retry-After in the year 2999
    stopped every tenant's retries in that tier). A wish longer than the last tier gets the
    last tier.
    """
    if permanent:
        return DeadLetter("permanent failure")
    tier = history.tier + 1
    if tier >= len(delays):
        return DeadLetter(f"retries exhausted after {history.attempts} attempts")
    wait = float(duration_seconds(delays[tier]))
    if retry_after_s is not None and retry_after_s > wait:
        longer = [
            i for i in range(tier, len(delays)) if duration_seconds(delays[i]) >= retry_after_s
        ]
        tier = longer[0] if longer else len(delays) - 1
        wait = float(duration_seconds(delays[tier]))
    return Retry(tier, delays[tier], now + timedelta(seconds=wait))


def failure_headers(
    record: ConsumerRecord,
    history: DeliveryHistory,
    error: Exception,
    now: datetime,
    retry: Retry | None = None,
) -> list[tuple[str, bytes | None]]:
    """The record's own headers, byte for byte, plus its updated history, for a retry tier or
    dead letters.

    The one format of every dead letter, the router's included (there with no destination and
    no attempts), so ``knooppunt dlq`` reads and replays them all alike. The history's progress
    goes in ``knooppunt_progress`` when not empty (compact JSON; ValueError beyond
    connectors.sdk.outcomes.MAX_PROGRESS_BYTES).
    """
    status = getattr(error, "status", None)
    own = [(name, raw) for name, raw in record.headers or () if not name.startswith(PREFIX)]
    history_headers = {
        "destination": history.destination,
        "target_topic": history.target_topic,
        "attempts": str(history.attempts),
        "tier": str(retry.tier if retry else history.tier),
        "first_failure": (history.first_failure or now).astimezone(UTC).isoformat(),
        "last_failure": now.astimezone(UTC).isoformat(),
        "error_class": type(error).__name__,
        "error_message": redact_text(str(error))[:1000],
        "error_status": "" if status is None else str(status),
        "error_field": getattr(error, "field", None) or "",
        "original_topic": history.original[0],
        "original_partition": str(history.original[1]),
        "original_offset": str(history.original[2]),
    }
    if retry is not None:
        history_headers["retry_at"] = str(int(retry.retry_at.timestamp() * 1000))
    if history.progress:
        history_headers["progress"] = encode_progress(history.progress).decode()
    if history.attempt_log:
        history_headers["attempt_log"] = encode_attempt_log(history.attempt_log)
    return own + [(f"{PREFIX}{name}", value.encode()) for name, value in history_headers.items()]


def due_in_s(headers: Mapping[str, str], now: datetime) -> float:
    """Seconds until a record in a retry tier may be tried again (0 or less: now)."""
    text = headers.get(f"{PREFIX}retry_at", "0")
    retry_at_ms = int(text) if text.isascii() and text.isdigit() else 0
    return retry_at_ms / 1000 - now.timestamp()
