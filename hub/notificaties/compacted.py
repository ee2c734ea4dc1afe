"""A map kept in one compacted Kafka topic, read whole at start and followed after.

Every hub process holds the whole map in memory: it reads the topic's one partition from the
start to its end before ``start`` returns, then follows it (assigned, no consumer group: every
process reads every record), so a change written through one process is in every other's map
within a fetch (the follow loop waits at most ``FOLLOW_WAIT_MS`` for new records). A write
returns once Kafka acknowledged it (acks=all) and this process's own reader has applied it:
read your own writes. A delete is a tombstone (a record without value), which compaction
removes in time.

Why a compacted topic and not a database: the hub has Kafka already; a second store would be
one more thing to run, back up and keep consistent with it. Kanalen and abonnementen are few
(thousands, a few hundred bytes each), change rarely and are read on every notificatie, which
an in-memory map answers without I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from hub.errors import KnooppuntError
from hub.kafka.admin import ensure_topics
from hub.kafka.clients import start_client
from hub.notificaties.domain import RecordError
from hub.observability.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiokafka.structs import ConsumerRecord

__all__ = ["Change", "CompactedMap", "Watcher"]

V = TypeVar("V")
log = get_logger(__name__)
FOLLOW_WAIT_MS = 250  # a change made elsewhere is seen within about this, plus a fetch
CATCH_UP_S = 30.0


@dataclass(frozen=True)
class Change(Generic[V]):
    """One record applied: ``key``'s value went from ``before`` to ``after`` (None: absent).
    ``live`` is False for what the topic held at start (state restored, not news)."""

    key: str
    before: V | None
    after: V | None
    live: bool


Watcher = Callable[[Change[V]], None]


class CompactedMap(Generic[V]):
    """``key -> V`` on the compacted topic ``topic``; ``parse(key, value)`` reads a record's
    value (RecordError: passed over and logged)."""

    def __init__(
        self, bootstrap: str, topic: str, parse: Callable[[bytes, bytes], V], what: str
    ) -> None:
        self.bootstrap, self.topic, self.what = bootstrap, topic, what
        self._parse = parse
        self._items: dict[str, V] = {}
        self._watchers: list[Watcher[V]] = []
        self._next_offset = 0  # everything before it is applied
        self._applied = asyncio.Condition()
        self._version = 0
        self._partition = TopicPartition(topic, 0)
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._following: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        """Whether the topic was read to its end and is followed now."""
        return self._following is not None

    @property
    def version(self) -> int:
        """How many changes were applied since ``start``; grows with every change."""
        return self._version

    def snapshot(self) -> Mapping[str, V]:
        """The map as it is now (a read-only view: it follows later changes)."""
        return MappingProxyType(self._items)

    def watch(self, watcher: Watcher[V]) -> Callable[[], None]:
        """Call ``watcher`` with every change applied from now on (in the reader's task; it must
        not block); returns the function that stops it."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher) if watcher in self._watchers else None

    async def start(self, catch_up_s: float = CATCH_UP_S) -> None:
        """Create the topic if missing, read it to its end, then follow it. Raises KnooppuntError
        when the end is not reached within ``catch_up_s`` (the map would be incomplete), or
        what Kafka raised; either way its clients are closed first."""
        try:
            await self._start(catch_up_s)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, catch_up_s: float) -> None:
        await ensure_topics(self.bootstrap, [self.topic], 1, compacted=[self.topic])
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=f"knooppunt-{self.what}",
            acks="all",
            enable_idempotence=True,
        )
        await start_client(self._producer)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id=f"knooppunt-{self.what}",
            enable_auto_commit=False,
            fetch_max_wait_ms=FOLLOW_WAIT_MS,
        )
        await start_client(self._consumer)
        self._consumer.assign([self._partition])
        await self._consumer.seek_to_beginning(self._partition)
        end = (await self._consumer.end_offsets([self._partition]))[self._partition]
        deadline = asyncio.get_running_loop().time() + catch_up_s
        while await self._consumer.position(self._partition) < end:
            if asyncio.get_running_loop().time() > deadline:
                raise KnooppuntError(f"{self.topic}: not read to its end within {catch_up_s:g} s")
            await self._fetch(live=False)
        self._following = asyncio.create_task(self._follow(), name=f"follow-{self.topic}")

    async def stop(self) -> None:
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
            self._following = None
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()
        self._consumer = self._producer = None

    async def put(self, key: str, value: bytes, timeout_s: float = 10.0) -> None:
        """Write ``value`` for ``key``; returns once Kafka acknowledged it and this map holds it.
        Raises TimeoutError or aiokafka's KafkaError (the hub answers 503)."""
        await self._write(key, value, timeout_s)

    async def delete(self, key: str, timeout_s: float = 10.0) -> None:
        """Remove ``key`` (a tombstone); returns once acknowledged and applied here."""
        await self._write(key, None, timeout_s)

    async def _write(self, key: str, value: bytes | None, timeout_s: float) -> None:
        if self._producer is None:
            raise KnooppuntError(f"the {self.what} store is not started")
        async with asyncio.timeout(timeout_s):
            written = await self._producer.send_and_wait(self.topic, value, key=key.encode())
            async with self._applied:
                await self._applied.wait_for(lambda: self._next_offset > written.offset)

    async def _follow(self) -> None:
        while True:
            try:
                await self._fetch(live=True)
            except KafkaError as exc:
                log.warning("store_fetch_failed", topic=self.topic, error=str(exc))
                await asyncio.sleep(1.0)

    async def _fetch(self, live: bool) -> None:
        assert self._consumer is not None
        batches = await self._consumer.getmany(self._partition, timeout_ms=1000)
        for records in batches.values():
            for record in records:
                self._apply(record, live)
        if batches:
            async with self._applied:
                self._applied.notify_all()

    def _apply(self, record: ConsumerRecord[bytes, bytes], live: bool) -> None:
        self._next_offset = record.offset + 1
        if record.key is None:
            return
        try:
            key = record.key.decode()
            after = None if record.value is None else self._parse(record.key, record.value)
        except (RecordError, UnicodeDecodeError) as exc:
            log.warning(
                "store_record_unreadable", topic=self.topic, offset=record.offset, error=str(exc)
            )
            return
        before = self._items.pop(key, None)
        if after is not None:
            self._items[key] = after
        self._version += 1
        change = Change(key, before, after, live)
        for watcher in list(self._watchers):
            try:
                watcher(change)
            except Exception as exc:  # a watcher's bug must not stop the store
                log.error("store_watcher_failed", topic=self.topic, error_class=type(exc).__name__)
