"""Blocked destinations, kept in Kafka: ``<prefix>knooppunt.destination-blocks``, compacted.

A push destination that delivered nothing for ``delivery.block_after`` (a week by default)
while failing is blocked by the delivery engine that owns it: no more probes, its events wait
in Kafka. An operator releases it (``knooppunt destinations release``). Both are records on
this topic, so the state survives restarts and every delivery process sees it:

- key: the destination's topic name (no personal data: tenant code and destination name);
- value: JSON ``{"state": "blocked" | "released", "at": RFC 3339 time, "by": who}``.

``BlockReader`` (one per delivery process, no consumer group) reads the topic from its start and
hands each record to the engine. Anchor: OneGround's notification service blocks a subscription
after a week of failed deliveries until it is released.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.errors import KnooppuntError
from hub.kafka.clients import start_client
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from hub.kafka.producing import RecordProducer

__all__ = ["BLOCKED", "RELEASED", "BlockReader", "BlockRecord", "read_blocks", "write_block"]

BLOCKED, RELEASED = "blocked", "released"
log = get_logger(__name__)


@dataclass(frozen=True)
class BlockRecord:
    """One change of a destination's block (``destination_topic`` is the record key)."""

    destination_topic: str
    state: str  # BLOCKED or RELEASED
    at: datetime
    by: str

    def value(self) -> bytes:
        return orjson.dumps({"state": self.state, "at": self.at.isoformat(), "by": self.by})

    @classmethod
    def parse(cls, key: bytes | None, value: bytes | None) -> BlockRecord | None:
        """The record, or None for anything else (a tombstone, a foreign record): ignored."""
        try:
            data = orjson.loads(value or b"")
            state = data["state"]
            if key is None or state not in (BLOCKED, RELEASED):
                return None
            return cls(key.decode(), state, datetime.fromisoformat(data["at"]), str(data["by"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError):
            return None


async def write_block(
    producer: RecordProducer, topic: str, destination_topic: str, state: str, by: str
) -> BlockRecord:
    """Write one block or release, acknowledged by Kafka (raises KafkaError otherwise)."""
    record = BlockRecord(destination_topic, state, datetime.now(UTC), by)
    await producer.send_and_wait(topic, record.value(), destination_topic.encode(), ())
    return record


async def read_blocks(
    bootstrap: str, topic: str, timeout_s: float = 15.0
) -> dict[str, BlockRecord]:
    """The last block record per destination topic, read from the start to the end found now.
    Raises KnooppuntError when ``topic`` does not exist (the hub creates it at start) and
    KafkaError when Kafka does not answer."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="knooppunt-cli",
        enable_auto_commit=False,
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        await start_client(consumer)
        if topic not in await consumer.topics():
            raise KnooppuntError(
                f"topic {topic} does not exist: is KNOOPPUNT_TOPIC_PREFIX the hub's? "
                "(the hub creates it when it starts)"
            )
        latest: dict[str, BlockRecord] = {}

        def keep(record: BlockRecord) -> None:
            latest[record.destination_topic] = record

        if await _read_to_end(consumer, TopicPartition(topic, 0), timeout_s, keep) is not None:
            raise KnooppuntError(f"{topic}: not read to its end within {timeout_s:g} s")
        return latest
    finally:
        await consumer.stop()


async def _read_to_end(
    consumer: AIOKafkaConsumer,
    partition: TopicPartition,
    timeout_s: float,
    apply: Callable[[BlockRecord], None],
) -> int | None:
    """Read ``partition`` from its start to the end it has now, handing ``apply`` each block
    record. None once that end is reached; the end offset when ``timeout_s`` ran out first.
    ``consumer`` is assigned the partition."""
    consumer.assign([partition])
    await consumer.seek_to_beginning(partition)
    end = (await consumer.end_offsets([partition]))[partition]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while await consumer.position(partition) < end:
        if asyncio.get_running_loop().time() > deadline:
            return int(end)
        await _read(consumer, 500, apply)
    return None


async def _read(
    consumer: AIOKafkaConsumer, timeout_ms: int, apply: Callable[[BlockRecord], None]
) -> None:
    """One fetch: every block record in it to ``apply`` (other records are ignored)."""
    for records in (await consumer.getmany(timeout_ms=timeout_ms)).values():
        for record in records:
            parsed = BlockRecord.parse(record.key, record.value)
            if parsed is not None:
                apply(parsed)


class BlockReader:
    """Reads every block record from the topic's start (its one partition), then follows it;
    ``apply`` gets each. A Consumer (hub.kafka.consuming) for the hub's lifecycle: ``start``
    returns once it has read what the topic held, so the engine, started after it, never
    probes a destination that is blocked and not released."""

    def __init__(
        self, bootstrap: str, topic: str, apply: Callable[[BlockRecord, bool], None]
    ) -> None:
        """``apply(record, live)``: ``live`` is False for what the topic held at start (state
        to restore, not news to log)."""
        self.bootstrap, self.topic, self.apply = bootstrap, topic, apply
        self.group_id = "destination-blocks"  # for readiness only: it reads without a group
        self.partition = TopicPartition(topic, 0)
        self.consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    def joined(self) -> bool:
        return self._task is not None

    async def start(self, catch_up_s: float = 30.0) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id="knooppunt-destination-blocks",
            enable_auto_commit=False,
            fetch_max_wait_ms=1000,
        )
        await start_client(self.consumer)

        def restore(record: BlockRecord) -> None:
            self.apply(record, False)

        end = await _read_to_end(self.consumer, self.partition, catch_up_s, restore)
        if end is not None:
            log.warning("destination_blocks_incomplete", topic=self.topic, end_offset=end)
        self._task = asyncio.create_task(self._follow(), name="destination-blocks")

    async def stop(self, grace_s: float = 15.0) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.consumer is not None:
            await self.consumer.stop()

    async def _follow(self) -> None:
        assert self.consumer is not None

        def apply_live(record: BlockRecord) -> None:
            self.apply(record, True)

        while True:
            try:
                await _read(self.consumer, 1000, apply_live)
            except KafkaError as exc:
                log.error("consumer_fetch_failed", consumer="blocks", error=redact_text(str(exc)))
                await asyncio.sleep(1.0)
