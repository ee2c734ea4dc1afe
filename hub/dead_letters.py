"""Reading, showing and replaying a tenant's dead letters (``knooppunt dlq``).

A dead letter is the original record with its history and cause in ``knooppunt_*`` headers
(hub.delivery, hub.router_worker). Replaying sends it back where it failed: a failed delivery to
its destination topic (the delivery worker tries again, with the same idempotency key), an event
the router refused to its contract topic. One that fails again returns to dead letters.
Personal data is never printed: payloads pass hub.redaction.redact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hub.delivery import PREFIX
from hub.kafka_admin import partitions_of
from hub.redaction import redact

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiokafka import ConsumerRecord

__all__ = ["DeadLetterRecord", "read_dead_letters", "replay", "select"]


@dataclass(frozen=True)
class DeadLetterRecord:
    """One dead letter as read from its topic."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

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
        """Everything about the letter, with personal data in the payload redacted."""
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
            "headers": redact(self.headers),
            "payload": redact(payload),
        }


def _letter(record: ConsumerRecord) -> DeadLetterRecord:
    return DeadLetterRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        key=record.key,
        value=record.value,
        headers={k: v.decode("utf-8", "replace") for k, v in record.headers or ()},
    )


async def read_dead_letters(
    bootstrap: str, topic: str, idle_s: float = 1.5
) -> list[DeadLetterRecord]:
    """Every dead letter on ``topic``, oldest first per partition (reads to the current end)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    letters: list[DeadLetterRecord] = []
    try:
        partitions = await partitions_of(bootstrap, [topic])
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
    """The letters matching every filter given; ``offsets`` as ``partition:offset``."""
    return [
        letter
        for letter in letters
        if (destination is None or letter.destination == destination)
        and (since is None or letter.timestamp >= since)
        and (not offsets or f"{letter.partition}:{letter.offset}" in offsets)
    ]


async def replay(bootstrap: str, letters: Sequence[DeadLetterRecord]) -> list[str]:
    """Send each letter back where it failed, its history stripped; returns the topics written."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    written = []
    try:
        for letter in letters:
            headers = [
                (name, value.encode())
                for name, value in letter.headers.items()
                if not name.startswith(PREFIX)
            ]
            headers.append(
                (
                    f"{PREFIX}replay_of",
                    f"{letter.topic}:{letter.partition}:{letter.offset}".encode(),
                )
            )
            await producer.send_and_wait(
                letter.replay_topic, letter.value, key=letter.key, headers=headers
            )
            written.append(letter.replay_topic)
    finally:
        await producer.stop()
    return written
