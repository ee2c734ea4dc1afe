"""A consumer-group member on librdkafka (confluent-kafka) that runs its loop in a thread.

The router's hot path: consume -> route -> produce -> await every delivery report -> commit.
Written with aiokafka, every record costs a pure-Python murmur2, a send future and several event
loop hops; here fetching, partitioning, batching and acknowledging happen in librdkafka's C
threads, and the Python side only decides (docs/design.md, "The router's fast path").

The contract is ``hub.kafka.consuming``'s, per fetched batch of one partition:

- ``handler.send(records)`` hands every copy (and dead letter) of the batch to the writer, in
  record order, and returns a ``Pending``;
- once the writer has every delivery report of everything sent from this fetch,
  ``pending.settle()`` counts what was written (and deals with refusals that are the record's
  own fault, e.g. too large); it raises when the batch must be read again (Kafka did not
  acknowledge a copy): nothing of it is committed, the partition is sought back to the batch's
  first record and paused for ``retry_pause_s``; other partitions go on;
- only then are the settled batches committed, once per fetch, up to their last record. The
  commit is sent without waiting for its answer (the next fetch is routed meanwhile); before a
  partition is given up (revoked, stop) its offset is committed again, waiting.

``stop`` lets the fetch in hand finish (at most ``grace_s``), commits what was handled, leaves
the group and flushes the writer. A fetch not finished by then is not committed: whoever takes
the partition reads it again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from confluent_kafka import Consumer as KafkaConsumer
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from hub.kafka.writing import WaitAbandonedError
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from confluent_kafka import Message

    from hub.kafka.writing import BatchWriter

__all__ = ["BatchHandler", "Pending", "Record", "ThreadedConsumer"]

log = get_logger(__name__)
_REPORTS_WAIT_S = 0.005  # nothing new fetched: how long to wait for delivery reports


@dataclass(slots=True)
class Record:
    """One consumed record, with the attribute names of aiokafka's ``ConsumerRecord`` (so the
    hub's header and history helpers read both)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]

    @classmethod
    def of(cls, message: Message) -> Record:
        # Without deserializers librdkafka hands over bytes: header values too, as a list.
        headers = cast("list[tuple[str, bytes | None]] | None", message.headers())
        return cls(
            message.topic() or "",
            message.partition() or 0,
            message.offset() or 0,
            message.key(),
            message.value(),
            tuple(headers) if headers else (),
        )


class Pending(Protocol):
    """What ``BatchHandler.send`` leaves to finish once every delivery report is in."""

    def done(self) -> bool:
        """Whether every record handed to the writer has its delivery report."""
        ...

    def settle(self) -> None: ...


@dataclass
class _Fetch:
    """The batches of one fetch, handed to the handler."""

    sent: list[tuple[list[Record], Pending]]

    def done(self) -> bool:
        return all(pending.done() for _, pending in self.sent)


class BatchHandler(Protocol):
    def send(self, records: Sequence[Record]) -> Pending: ...


class ThreadedConsumer:
    """One member of consumer group ``group_id`` reading ``topics`` into ``handler``, which
    writes with ``writer`` (this consumer flushes and closes it when it stops).

    Implements the hub's ``Consumer`` protocol (hub.kafka.consuming): start, stop, joined.
    """

    def __init__(
        self,
        *,
        bootstrap: str,
        topics: Sequence[str],
        group_id: str,
        handler: BatchHandler,
        writer: BatchWriter,
        name: str,
        max_records: int = 500,
        retry_pause_s: float = 1.0,
        poll_timeout_s: float = 0.5,
        fetches_ahead: int = 1,
    ) -> None:
        self.bootstrap, self.topics, self.group_id = bootstrap, list(topics), group_id
        self.handler, self.writer, self.name = handler, writer, name
        self.max_records, self.retry_pause_s, self.poll_timeout_s = (
            max_records,
            retry_pause_s,
            poll_timeout_s,
        )
        self.fetches_ahead = fetches_ahead
        self._assignment: set[tuple[str, int]] = set()
        self._paused: dict[tuple[str, int], float] = {}  # partition -> monotonic resume time
        self._uncertain: dict[tuple[str, int], int] = {}  # committed without waiting
        self._rewound: dict[tuple[str, int], int] = {}  # sought back to, not read again yet
        self._in_flight: deque[_Fetch] = deque()  # sent, delivery reports not all in
        self._stopping = threading.Event()
        self._joined = threading.Event()
        self._abandon = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: KafkaConsumer | None = None

    def joined(self) -> bool:
        """Whether this member has joined its group and received its assignment (readiness);
        it may be empty: a member beyond the number of partitions stands by."""
        return self._joined.is_set()

    async def start(self) -> None:
        self._consumer = KafkaConsumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": self.group_id,
                "client.id": f"knooppunt-{self.name}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "socket.nagle.disable": True,
                # As the hub's aiokafka consumers (10 s): librdkafka's 45 s default kept a
                # killed router's partitions unrouted for 42 s before another member took them.
                "session.timeout.ms": 10_000,
                "heartbeat.interval.ms": 3_000,
                # a topic created just before the join and missing from its metadata: in 5 s
                "topic.metadata.refresh.interval.ms": 5000,
                "logger": _LIBRDKAFKA_LOG,
                "on_commit": self._on_commit,
            }
        )
        self._consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        self._thread = threading.Thread(target=self._run, name=f"consumer:{self.name}")
        self._thread.start()

    async def stop(self, grace_s: float = 15.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, grace_s)
            if self._thread.is_alive():
                self._abandon.set()  # the batch in hand stays uncommitted
                await asyncio.to_thread(self._thread.join)

    # -- the loop, in its own thread --------------------------------------------------------

    def _on_assign(self, _consumer: KafkaConsumer, partitions: list[TopicPartition]) -> None:
        self._assignment.update((tp.topic, tp.partition) for tp in partitions)
        self._joined.set()

    def _on_revoke(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> None:
        self._drain(consumer)  # (called from within consume, on this thread)
        self._commit_now(consumer, [(tp.topic, tp.partition) for tp in partitions])
        for tp in partitions:
            self._assignment.discard((tp.topic, tp.partition))
            self._paused.pop((tp.topic, tp.partition), None)
            self._rewound.pop((tp.topic, tp.partition), None)

    def _run(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        self.writer.warm()
        try:
            while not self._stopping.is_set():
                self._resume_due(consumer)
                try:
                    messages = self._fetch(consumer, wait=not self._in_flight)
                except KafkaException as exc:
                    log.error("consumer_fetch_failed", consumer=self.name, error=_text(exc))
                    time.sleep(self.retry_pause_s)
                    continue
                if messages:
                    self._in_flight.append(self._send(consumer, messages))
                self.writer.poll(0 if messages else _REPORTS_WAIT_S)
                while self._in_flight and (
                    self._in_flight[0].done() or len(self._in_flight) > self.fetches_ahead
                ):
                    self._finish(consumer, self._in_flight.popleft())
            self._drain(consumer)
        except WaitAbandonedError:
            pass
        finally:
            self._commit_now(consumer, self._assignment)
            consumer.close()  # leaves the group
            self.writer.close()

    def _fetch(self, consumer: KafkaConsumer, wait: bool) -> list[Message]:
        """What librdkafka has fetched already, up to ``max_records``; when nothing and
        ``wait``, wait up to ``poll_timeout_s`` for the first record (``consume`` alone would
        wait for a full batch: half a second for an event arriving alone)."""
        messages = consumer.consume(self.max_records, 0)
        if messages or not wait:
            return messages
        messages = consumer.consume(1, self.poll_timeout_s)
        if messages and self.max_records > 1:
            messages.extend(consumer.consume(self.max_records - 1, 0))
        return messages

    def _send(self, consumer: KafkaConsumer, messages: list[Message]) -> _Fetch:
        """Hand every partition's batch of one fetch to the handler (nothing awaited)."""
        batches: dict[tuple[str, int], list[Record]] = {}
        for message in messages:
            if message.error() is not None:  # a partition's end or a broker-side error
                continue
            record = Record.of(message)
            batches.setdefault((record.topic, record.partition), []).append(record)
        fetch = _Fetch([])
        for key, records in batches.items():
            rewound = self._rewound.get(key)
            if rewound is not None:
                if records[0].offset != rewound:
                    continue  # fetched before the partition was sought back: read again later
                del self._rewound[key]  # the batch read again
            try:
                fetch.sent.append((records, self.handler.send(records)))
            except Exception as exc:
                self._failed(consumer, records, exc)
        return fetch

    def _finish(self, consumer: KafkaConsumer, fetch: _Fetch) -> None:
        """Once every delivery report of ``fetch`` is in: settle each batch, commit the good."""
        self.writer.wait_until(fetch.done, self._abandon)
        handled: list[TopicPartition] = []
        for records, pending in fetch.sent:
            first = records[0]
            rewound = self._rewound.get((first.topic, first.partition))
            if rewound is not None and first.offset > rewound:
                continue  # an earlier batch of its partition failed: this one is read again too
            try:
                pending.settle()
            except WaitAbandonedError:
                raise
            except Exception as exc:
                self._failed(consumer, records, exc)
            else:
                last = records[-1]
                handled.append(TopicPartition(last.topic, last.partition, last.offset + 1))
        if handled:
            # Sent without waiting for the answer: the next fetch is routed meanwhile. What was
            # handled is committed once more, waiting, before a partition is given up (revoked,
            # stop), so a new owner never starts before it.
            for tp in handled:
                self._uncertain[(tp.topic, tp.partition)] = tp.offset
            try:
                consumer.commit(offsets=handled, asynchronous=True)
            except KafkaException as exc:
                self._commit_failed(exc)

    def _drain(self, consumer: KafkaConsumer) -> None:
        while self._in_flight:
            self._finish(consumer, self._in_flight.popleft())

    def _commit_now(self, consumer: KafkaConsumer, partitions: Iterable[tuple[str, int]]) -> None:
        """Commit, waiting, what was handled on ``partitions`` since the last such commit."""
        offsets = [
            TopicPartition(topic, partition, self._uncertain.pop((topic, partition)))
            for topic, partition in list(partitions)
            if (topic, partition) in self._uncertain
        ]
        if not offsets:
            return
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self._commit_failed(exc)

    def _commit_failed(self, error: object) -> None:
        # A rebalance took the partitions: their new owner reads from the last commit, so some
        # records are handled twice (same idempotency keys), none lost.
        log.warning("consumer_commit_failed", consumer=self.name, error=_text(error))

    def _on_commit(self, error: KafkaError | None, _partitions: list[TopicPartition]) -> None:
        if error is not None:
            self._commit_failed(error)

    def _failed(self, consumer: KafkaConsumer, records: list[Record], exc: Exception) -> None:
        first = records[0]
        log.error(
            "consumer_batch_failed",
            consumer=self.name,
            topic=first.topic,
            partition=first.partition,
            offset=first.offset,
            batch=len(records),
            error_class=type(exc).__name__,
            error=_text(exc),
        )
        tp = TopicPartition(first.topic, first.partition, first.offset)
        try:
            consumer.pause([tp])
            consumer.seek(tp)
        except KafkaException as error:  # the partition was revoked meanwhile: not ours
            log.warning("consumer_commit_failed", consumer=self.name, error=_text(error))
            return
        self._paused[(first.topic, first.partition)] = time.monotonic() + self.retry_pause_s
        self._rewound[(first.topic, first.partition)] = first.offset

    def _resume_due(self, consumer: KafkaConsumer) -> None:
        if not self._paused:
            return
        now = time.monotonic()
        due = [key for key, until in self._paused.items() if until <= now]
        for key in due:
            del self._paused[key]
            if key in self._assignment:
                consumer.resume([TopicPartition(*key)])


def _text(error: object) -> str:
    return redact_text(str(error))


_LIBRDKAFKA_LOG = logging.getLogger("librdkafka")  # a library: rate limited, warnings and up
