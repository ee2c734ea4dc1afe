"""Reading, showing and replaying a tenant's dead letters (``knooppunt dlq``).

A dead letter is the original record with its history and cause in ``knooppunt_*`` headers
(hub.delivery.history, hub.routing.router). Replaying sends it back where it failed: a failed
delivery to its destination topic (the delivery worker tries again, with the same idempotency
key), an event the router refused to its contract topic. One that fails again returns to dead
letters. Each replay is recorded (hub.delivery.replays), so a replayed letter is shown as such
and not replayed again unless forced. Personal data is never printed: a shown payload loses the
fields its contract declares personal data (hub.observability.redaction.redact_declared), then
passes the key- and 11-proef-based ``redact`` as well, for what free-form fields (a form's
``values``) hold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hub.delivery.history import PREFIX, attempt_log_of
from hub.delivery.replays import ReplayRecord, ensure_replays_topic, write_replay
from hub.errors import UsageError
from hub.kafka.admin import partitions_of
from hub.kafka.clients import start_client
from hub.kafka.headers import text_headers
from hub.observability.redaction import redact, shown_payload

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from aiokafka import ConsumerRecord

    from hub.delivery.history import AttemptRecord

__all__ = [
    "DeadLetterRecord",
    "ReplayRecord",
    "missing",
    "not_replayed",
    "read_dead_letters",
    "replay",
    "select",
]


@dataclass(frozen=True)
class DeadLetterRecord:
    """One dead letter as read from its topic."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes | None
    raw_headers: tuple[tuple[str, bytes | None], ...]

    @property
    def headers(self) -> dict[str, str]:
        """The headers with a UTF-8 value, for display; replay sends ``raw_headers``."""
        return text_headers(self.raw_headers)

    @property
    def name(self) -> str:
        """The letter's name in the replays topic: ``<topic>:<partition>:<offset>``."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def destination(self) -> str:
        return self.headers.get(f"{PREFIX}destination", "")

    @property
    def replay_topic(self) -> str:
        """Where a replay goes: the destination topic of a failed delivery, else the topic the
        event was first refused on."""
        return self.headers.get(f"{PREFIX}target_topic") or self.headers.get(
            f"{PREFIX}original_topic", ""
        )

    def summary(self) -> dict[str, str]:
        get = self.headers.get
        return {
            "offset": f"{self.partition}:{self.offset}",
            "failed_at": get(f"{PREFIX}last_failure", ""),
            "destination": self.destination or "(router)",
            "attempts": get(f"{PREFIX}attempts", "0"),
            "error": " ".join(
                filter(None, [get(f"{PREFIX}error_class", "?"), get(f"{PREFIX}error_status")])
            ),
            "message": get(f"{PREFIX}error_message", ""),
            "type": get("ce_type", "?"),
            "event_id": get("ce_id", "?"),
        }

    def shown(self) -> dict[str, Any]:
        """Everything about the letter, with personal data in the payload redacted: the fields
        its contract (``ce_type``, ``ce_dataschema``) declares, and anything ``redact`` finds."""
        try:
            payload: Any = orjson.loads(self.value or b"null")
        except orjson.JSONDecodeError:
            payload = f"({len(self.value or b'')} bytes, not JSON)"
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp.isoformat(),
            "key": (self.key or b"").decode("utf-8", "replace"),
            "headers": redact(_shown_headers(self.raw_headers)),
            "attempts": [a.as_json() for a in self.attempt_log],
            "payload": shown_payload(
                payload, self.headers.get("ce_type", ""), self.headers.get("ce_dataschema")
            ),
        }

    @property
    def attempt_log(self) -> tuple[AttemptRecord, ...]:
        """The failed attempts the letter's record made (at most the newest 20), oldest first:
        number, time, outcome, code, duration (hub.delivery.history.AttemptRecord)."""
        return attempt_log_of(self.headers.get(f"{PREFIX}attempt_log"))


def _letter(record: ConsumerRecord) -> DeadLetterRecord:
    return DeadLetterRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        key=record.key,
        value=record.value,
        raw_headers=tuple(record.headers or ()),
    )


async def read_dead_letters(
    bootstrap: str, topic: str, idle_s: float = 1.5
) -> list[DeadLetterRecord]:
    """Every dead letter on ``topic``, oldest first per partition (reads to the current end)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    letters: list[DeadLetterRecord] = []
    try:
        await start_client(consumer)
        partitions = await partitions_of(bootstrap, [topic])
        if not partitions:
            raise UsageError(
                f"there is no dead-letter topic {topic} at {bootstrap}: is the tenant in the "
                "config, and has the hub run with it?"
            )
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            positions = {tp: await consumer.position(tp) for tp in partitions}
            if all(positions[tp] >= ends[tp] for tp in partitions):
                break
            batches = await consumer.getmany(timeout_ms=int(idle_s * 1000))
            letters.extend(_letter(r) for batch in batches.values() for r in batch)
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda letter: (letter.timestamp, letter.partition, letter.offset))


def select(
    letters: Sequence[DeadLetterRecord],
    destination: str | None = None,
    since: datetime | None = None,
    offsets: Sequence[str] = (),
) -> list[DeadLetterRecord]:
    """The letters matching every filter given; ``offsets`` as ``partition:offset``; a
    ``since`` without an offset is this machine's local time (as an operator types it)."""
    if since is not None and since.tzinfo is None:
        since = since.astimezone()
    return [
        letter
        for letter in letters
        if (destination is None or letter.destination == destination)
        and (since is None or letter.timestamp >= since)
        and (not offsets or f"{letter.partition}:{letter.offset}" in offsets)
    ]


def missing(letters: Sequence[DeadLetterRecord], offsets: Sequence[str]) -> list[str]:
    """The ``partition:offset`` names in ``offsets`` that name none of ``letters`` (malformed
    ones included), each once, in the order given: what ``select`` was asked for and could not
    find."""
    there = {f"{letter.partition}:{letter.offset}" for letter in letters}
    return [offset for offset in dict.fromkeys(offsets) if offset not in there]


def not_replayed(
    letters: Sequence[DeadLetterRecord], replays: Mapping[str, ReplayRecord]
) -> list[DeadLetterRecord]:
    """The letters no replay was recorded for (hub.delivery.replays)."""
    return [letter for letter in letters if letter.name not in replays]


async def replay(
    bootstrap: str, letters: Sequence[DeadLetterRecord], replays_topic: str, by: str
) -> list[ReplayRecord]:
    """Send each letter back where it failed, its history stripped, then record the replay on
    ``replays_topic`` (by ``by``: ``cli`` or ``console:<operator>``); returns the records.

    A crash between the two leaves a letter replayed but not marked: replaying it again is
    safe (the same idempotency key reaches the back office)."""
    await ensure_replays_topic(bootstrap, replays_topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    recorded = []
    try:
        await start_client(producer)
        for letter in letters:
            headers = [(n, raw) for n, raw in letter.raw_headers if not n.startswith(PREFIX)]
            headers.append((f"{PREFIX}replay_of", letter.name.encode()))
            await producer.send_and_wait(
                letter.replay_topic, letter.value, key=letter.key, headers=headers
            )
            recorded.append(
                await write_replay(producer, replays_topic, letter.name, letter.replay_topic, by)
            )
    finally:
        await producer.stop()
    return recorded


def _shown_headers(raw: Sequence[tuple[str, bytes | None]]) -> dict[str, str | None]:
    """Every header for display: bytes that are not UTF-8 escaped (``\\xc3``), a null value as
    None; the first of a name given twice."""
    shown: dict[str, str | None] = {}
    for name, value in raw:
        if name not in shown:
            shown[name] = None if value is None else value.decode("utf-8", "backslashreplace")
    return shown
