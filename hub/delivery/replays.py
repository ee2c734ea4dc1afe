"""Which dead letters were replayed: ``<prefix>knooppunt.dlq-replays``, compacted, one partition.

``dlq replay`` run twice used to deliver each event twice, and ``dlq list`` could not tell a
letter that was replayed from one still waiting. Every replay now writes one record here, after
the letter is back on its topic (hub.delivery.dead_letters.replay):

- key: ``<dead-letter topic>:<partition>:<offset>`` (no personal data: a topic and numbers);
- value: JSON ``{"at": RFC 3339 time, "by": who, "to": the topic it went back to}``.

``dlq list``, ``dlq show`` and the console read it back and say "replayed at ..."; ``dlq
replay`` and the console skip replayed letters unless forced. A letter that fails again comes
back as a new letter (a new offset), which is not replayed yet.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.kafka.admin import ensure_topics
from hub.kafka.clients import start_client

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

__all__ = ["ReplayRecord", "ensure_replays_topic", "read_replays", "write_replay"]


@dataclass(frozen=True)
class ReplayRecord:
    """One replay of the dead letter named by ``letter`` (``topic:partition:offset``)."""

    letter: str
    at: datetime
    by: str
    to: str

    def value(self) -> bytes:
        return orjson.dumps({"at": self.at.isoformat(), "by": self.by, "to": self.to})

    @classmethod
    def parse(cls, key: bytes | None, value: bytes | None) -> ReplayRecord | None:
        """The record, or None for anything else (a tombstone, a foreign record): ignored."""
        try:
            data = orjson.loads(value or b"")
            if key is None or not isinstance(data, dict):
                return None
            at = datetime.fromisoformat(data["at"])
            return cls(key.decode(), at, str(data["by"]), str(data["to"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError):
            return None


async def ensure_replays_topic(bootstrap: str, topic: str) -> None:
    """Create the replays topic (compacted) if this installation's hub has not made it yet."""
    await ensure_topics(bootstrap, [topic], 1, compacted=[topic])


async def write_replay(
    producer: AIOKafkaProducer, topic: str, letter: str, to: str, by: str
) -> ReplayRecord:
    """Record that ``letter`` was replayed to ``to`` now; acknowledged by every in-sync replica
    (the producer's acks) before it returns."""
    record = ReplayRecord(letter, datetime.now(UTC), by, to)
    await producer.send_and_wait(topic, record.value(), key=letter.encode())
    return record


async def read_replays(
    bootstrap: str, topic: str, timeout_s: float = 15.0
) -> dict[str, ReplayRecord]:
    """The last replay of every letter, read from the topic's start to the end found now; no
    topic yet means no replay yet. Raises TimeoutError when the end is not reached in time."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="knooppunt-dlq-replays",
        enable_auto_commit=False,
        request_timeout_ms=int(timeout_s * 1000),
    )
    replays: dict[str, ReplayRecord] = {}
    try:
        await start_client(consumer)
        if topic not in await consumer.topics():
            return replays
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        async with asyncio.timeout(timeout_s):
            while await consumer.position(partition) < end:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        parsed = ReplayRecord.parse(record.key, record.value)
                        if parsed is not None:
                            replays[parsed.letter] = parsed
    finally:
        await consumer.stop()
    return replays
