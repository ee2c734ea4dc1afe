"""A consumer-group member on librdkafka (confluent-kafka) that fetches in a thread and hands
the records to the event loop: the delivery engine's reader (docs/design.md, "Delivery engine").

Why a thread and librdkafka: the engine reads one partition per destination topic, about 1,000
at 340 tenants. aiokafka decodes every fetch response of them in Python on the event loop that
also runs the deliveries (idle: a fetch a second of 1,000 partitions; busy: the GIL shared with
every HTTP call). librdkafka fetches, decodes and keeps the group in its C threads; the Python
side only hands records over.

The contract, all on the event loop but where said:

- ``on_records(records)`` gets every fetched record, per call those of one ``consume``, in
  offset order per partition. The next fetch is handed over only after it returned, so a pause
  it asks for applies before more records of that partition come (backpressure).
- ``on_assigned(partitions)`` after each assignment; partitions of topics ``wanted`` refuses
  are paused at once (in the fetch thread, before anything of them is fetched) and never
  handed over.
- ``on_revoked(partitions)`` before partitions are given up: it finishes what it can and
  returns the offsets to commit, which are committed, waiting, before the group moves on.
- ``pause``, ``resume`` and ``commit`` (not waiting) may be called from the event loop at any
  time; the fetch thread applies them between two fetches, at most ``_POLL_TIMEOUT_S`` later.
  (confluent-kafka serialises the calls on one handle: a call from another thread would wait
  for the fetch in progress, and starve behind the next.)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from confluent_kafka import Consumer as KafkaConsumer
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from hub.kafka.threaded import Record
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from confluent_kafka import Message

__all__ = ["Partition", "RecordFeed"]

log = get_logger(__name__)
# How long a fetch waits for a first record: how soon a pause, resume, commit or stop asked for
# meanwhile is applied (an idle wake-up costs a few µs of C).
_POLL_TIMEOUT_S = 0.05
_REVOKE_WAIT_S = 30.0  # at most, for ``on_revoked`` (it lets deliveries in flight finish)


class Partition(NamedTuple):
    topic: str
    partition: int


Offsets = dict[Partition, int]  # the next offset to read, per partition


class RecordFeed:
    """One member of group ``group_id`` subscribed to the topics matching ``pattern`` (a regular
    expression, librdkafka's ``^`` form). See the module docstring for the callbacks."""

    def __init__(
        self,
        *,
        bootstrap: str,
        pattern: str,
        group_id: str,
        name: str,
        expected: Iterable[str],
        wanted: Callable[[str], bool],
        on_records: Callable[[list[Record]], None],
        on_assigned: Callable[[list[Partition]], None],
        on_revoked: Callable[[list[Partition]], Coroutine[Any, Any, Offsets]],
        max_records: int = 500,
        metadata_refresh_ms: int = 5_000,
    ) -> None:
        self.bootstrap, self.pattern, self.group_id, self.name = bootstrap, pattern, group_id, name
        self.expected, self.wanted = frozenset(expected), wanted
        self.on_records, self.on_assigned, self.on_revoked = on_records, on_assigned, on_revoked
        self.max_records, self.metadata_refresh_ms = max_records, metadata_refresh_ms
        self._consumer: KafkaConsumer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._handed_over = threading.Event()
        self._requests: deque[Callable[[KafkaConsumer], None]] = deque()  # for the fetch thread
        self._joined = False
        self._closed = False

    def joined(self) -> bool:
        """Whether this member joined its group with an assignment made knowing every one of
        ``expected`` (the assignment may be empty: a member beyond the partitions stands by)."""
        return self._joined

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._consumer = KafkaConsumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": self.group_id,
                "client.id": f"knooppunt-{self.name}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "socket.nagle.disable": True,
                # a new destination topic is matched within this; few metadata bytes in C
                "topic.metadata.refresh.interval.ms": self.metadata_refresh_ms,
                # fetched ahead per partition and in all: a paused partition's are dropped
                "queued.min.messages": 1_000,
                "queued.max.messages.kbytes": 32_768,
                "logger": _LIBRDKAFKA_LOG,
                "on_commit": self._on_commit,
            }
        )
        self._consumer.subscribe(
            [self.pattern], on_assign=self._on_assign, on_revoke=self._on_revoke
        )
        self._thread = threading.Thread(target=self._run, name=f"consumer:{self.name}")
        self._thread.start()

    async def stop_fetching(self) -> None:
        """Hand over nothing more (the fetch thread ends); the group membership stays."""
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    async def close(self, offsets: Offsets) -> None:
        """Commit ``offsets`` (waiting), then leave the group (``on_revoked`` is called for
        what is still assigned). Call after ``stop_fetching``."""
        consumer = self._consumer
        if consumer is None or self._closed:
            return
        await asyncio.to_thread(self._commit_waiting, consumer, offsets)
        await asyncio.to_thread(consumer.close)
        self._closed = True

    def pause(self, partitions: Iterable[Partition]) -> None:
        tps = [TopicPartition(topic, partition) for topic, partition in partitions]
        if tps:
            self._requests.append(lambda consumer: self._pause(consumer, tps, pause=True))

    def resume(self, partitions: Iterable[Partition]) -> None:
        tps = [TopicPartition(topic, partition) for topic, partition in partitions]
        if tps:
            self._requests.append(lambda consumer: self._pause(consumer, tps, pause=False))

    def commit(self, offsets: Offsets) -> None:
        """Commit without waiting (a failure is logged by ``on_commit``; a rebalance commits
        again, waiting)."""
        if offsets:
            tps = _partitions(offsets)
            self._requests.append(lambda consumer: self._commit(consumer, tps))

    def _pause(self, consumer: KafkaConsumer, tps: list[TopicPartition], pause: bool) -> None:
        try:
            consumer.pause(tps) if pause else consumer.resume(tps)
        except KafkaException as exc:  # revoked meanwhile: no longer ours
            log.warning("consumer_pause_failed", consumer=self.name, error=_text(exc))

    def _commit(self, consumer: KafkaConsumer, tps: list[TopicPartition]) -> None:
        try:
            consumer.commit(offsets=tps, asynchronous=True)
        except KafkaException as exc:
            _commit_failed(self.name, exc)

    # -- in the fetch thread (and in ``close``'s) -------------------------------------------

    def _run(self) -> None:
        assert self._consumer is not None
        assert self._loop is not None
        consumer, loop = self._consumer, self._loop
        while not self._stopping.is_set():
            while self._requests:
                self._requests.popleft()(consumer)
            try:
                messages = consumer.consume(self.max_records, _POLL_TIMEOUT_S)
            except KafkaException as exc:
                log.error("consumer_fetch_failed", consumer=self.name, error=_text(exc))
                self._stopping.wait(1.0)
                continue
            records = self._records(messages)
            if not records:
                continue
            self._handed_over.clear()
            try:
                loop.call_soon_threadsafe(self._hand_over, records)
            except RuntimeError:  # the event loop is closed: nobody to hand over to
                return
            while not self._handed_over.wait(_POLL_TIMEOUT_S):
                if self._stopping.is_set():
                    return

    def _records(self, messages: list[Message]) -> list[Record]:
        records = []
        for message in messages:
            error = message.error()
            if error is None:
                records.append(Record.of(message))
            elif error.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer_fetch_failed", consumer=self.name, error=_text(error))
        return records

    def _hand_over(self, records: list[Record]) -> None:  # on the event loop
        try:
            self.on_records(records)
        finally:
            self._handed_over.set()

    def _on_assign(self, consumer: KafkaConsumer, assigned: list[TopicPartition]) -> None:
        consumer.assign(assigned)
        unwanted = [tp for tp in assigned if not self.wanted(tp.topic)]
        if unwanted:
            consumer.pause(unwanted)
        try:
            known = set(consumer.list_topics(timeout=10).topics)
        except KafkaException:
            known = set()
        self._joined = self.expected <= known
        partitions = [Partition(tp.topic, tp.partition) for tp in assigned]
        self._on_loop(self._assigned, partitions)

    def _assigned(self, partitions: list[Partition]) -> None:  # on the event loop
        self.on_assigned(partitions)

    def _on_revoke(self, consumer: KafkaConsumer, revoked: list[TopicPartition]) -> None:
        assert self._loop is not None
        partitions = [Partition(tp.topic, tp.partition) for tp in revoked]
        offsets: Offsets = {}
        try:
            future = asyncio.run_coroutine_threadsafe(self.on_revoked(partitions), self._loop)
            offsets = future.result(_REVOKE_WAIT_S)
        except Exception as exc:  # the loop is gone or too slow: the new owner re-delivers
            log.warning("consumer_revoke_failed", consumer=self.name, error=_text(exc))
        self._commit_waiting(consumer, offsets)
        consumer.unassign()

    def _on_loop(self, function: Callable[[list[Partition]], None], arg: list[Partition]) -> None:
        assert self._loop is not None
        try:
            asyncio.run_coroutine_threadsafe(_call_async(function, arg), self._loop).result(
                _REVOKE_WAIT_S
            )
        except Exception as exc:
            log.warning("consumer_assign_failed", consumer=self.name, error=_text(exc))

    def _commit_waiting(self, consumer: KafkaConsumer, offsets: Offsets) -> None:
        if not offsets:
            return
        try:
            consumer.commit(offsets=_partitions(offsets), asynchronous=False)
        except KafkaException as exc:
            _commit_failed(self.name, exc)

    def _on_commit(self, error: KafkaError | None, _partitions: list[TopicPartition]) -> None:
        if error is not None and error.code() != KafkaError._NO_OFFSET:
            _commit_failed(self.name, error)


async def _call_async(function: Callable[[list[Partition]], None], arg: list[Partition]) -> None:
    function(arg)


def _partitions(offsets: Offsets) -> list[TopicPartition]:
    return [TopicPartition(p.topic, p.partition, offset) for p, offset in offsets.items()]


def _commit_failed(name: str, error: object) -> None:
    # A rebalance took the partitions: their new owner reads from the last commit, so some
    # events are delivered again (same idempotency keys), none lost.
    log.warning("consumer_commit_failed", consumer=name, error=_text(error))


def _text(error: object) -> str:
    return redact_text(str(error))


_LIBRDKAFKA_LOG = logging.getLogger("librdkafka")  # a library: rate limited, warnings and up
