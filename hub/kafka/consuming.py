"""How the hub consumes Kafka: raw records, handled per partition, committed after.

Every consumer of the hub but the router (delivery, retry tiers) is a ``RecordConsumer``; the
router keeps the same contract on librdkafka, in a thread of its own (hub.kafka.threaded), for
speed. A ``RecordConsumer`` hands the raw ``ConsumerRecord``s of one partition, in offset order,
to its handler; no framework decodes a value or a header first, so no record can fail before
the hub's own code has looked at it. The handler's contract:

- it handles every record it is given (a record it cannot read goes to dead letters with its
  cause: that *is* handling it) and returns None;
- or it returns ``Defer(offset, seconds)``: the records from ``offset`` on are not due yet; they
  are read again after ``seconds`` (the partition is paused meanwhile, other partitions go on);
- it raises only when the hub itself cannot go on (Kafka did not acknowledge a copy): then
  nothing of that batch is committed, the partition is sought back to its first record and
  paused for ``retry_pause_s``, and the batch is read again. Other partitions go on.

Offsets are committed only up to what was handled (Kafka's committed offset is the next record
to read), once per fetched batch, so a crash re-reads at most one batch per partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from hub.kafka.clients import start_client
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

__all__ = [
    "Consumer",
    "Defer",
    "PartitionHandler",
    "RecordConsumer",
    "commit_offsets",
    "knows_every_topic",
    "refresh_metadata",
]

log = get_logger(__name__)
METADATA_MAX_AGE_MS = 5_000  # few topics per RecordConsumer: a cheap request


@dataclass(frozen=True)
class Defer:
    """Records from ``offset`` on are not due: read them again after ``seconds``."""

    offset: int
    seconds: float


PartitionHandler = Callable[[Sequence["ConsumerRecord"]], Awaitable[Defer | None]]


class Consumer(Protocol):
    """What the hub's assembly needs of any consumer-group member: start, stop, readiness."""

    group_id: str

    def joined(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self, grace_s: float = 15.0) -> None: ...


def refresh_metadata(consumer: AIOKafkaConsumer) -> None:
    """Ask for the cluster's metadata now instead of at the next ``metadata_max_age_ms``: a
    consumer subscribed by pattern then finds a topic made a moment ago (and rebalances to take
    it). aiokafka has no public call for it; its client's ``force_metadata_update`` is what its
    own group coordinator calls for the same reason."""
    client = getattr(consumer, "_client", None)
    if client is not None:
        asked = client.force_metadata_update()  # a future: its failure is retried by aiokafka
        asked.add_done_callback(lambda done: done.cancelled() or done.exception())


async def commit_offsets(consumer: AIOKafkaConsumer, offsets: Mapping[TopicPartition, int]) -> None:
    """Commit ``offsets`` (per partition, the next offset to read). Raises KafkaError.

    A consumer subscribed by pattern gets a new, empty subscription from aiokafka the moment a
    matching topic appears, before that rebalance's revoke callback runs; its public ``commit``
    then refuses ("No partitions assigned", IllegalStateError) although the group's generation
    is still this member's, and what was delivered since the last commit was delivered again by
    the partitions' next owner (a subscriber got a notificatie twice). Committed then through
    the group coordinator, as aiokafka's own last commit before a rebalance does
    (``GroupCoordinator._on_join_prepare``); the broker still checks the generation."""
    try:
        await consumer.commit(dict(offsets))
    except IllegalStateError:
        coordinator = getattr(consumer, "_coordinator", None)
        if coordinator is None:
            raise
        marks = {tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()}
        await coordinator.commit_offsets(None, marks)


def knows_every_topic(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> bool:
    """Whether ``consumer``'s metadata has the partitions of every one of ``topics``: an
    assignment made before that left some out, and a rebalance follows once they are known."""
    return all(consumer.partitions_for_topic(topic) for topic in topics)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Forgets pauses of revoked partitions; notes whether the assignment counted every topic
    (readiness)."""

    def __init__(self, owner: RecordConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            self.owner._paused.pop(tp, None)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.owner.consumer
        self.owner.joined_fully = consumer is not None and knows_every_topic(
            consumer, self.owner.topics
        )


class RecordConsumer:
    """One member of consumer group ``group_id`` reading ``topics`` and calling ``handler``.

    ``start`` subscribes and runs the loop in a task; ``stop`` lets the batch in hand finish
    (at most ``grace_s``), commits what was handled and leaves the group.
    """

    def __init__(
        self,
        *,
        bootstrap: str,
        topics: Sequence[str],
        group_id: str,
        handler: PartitionHandler,
        name: str,
        max_records: int = 500,
        retry_pause_s: float = 1.0,
        poll_timeout_s: float = 0.5,
    ) -> None:
        self.bootstrap, self.topics, self.group_id = bootstrap, list(topics), group_id
        self.handler, self.name = handler, name
        self.max_records, self.retry_pause_s = max_records, retry_pause_s
        self.poll_timeout_ms = int(poll_timeout_s * 1000)
        self.consumer: AIOKafkaConsumer | None = None
        self._paused: dict[TopicPartition, float] = {}  # partition -> monotonic resume time
        self._stopping = asyncio.Event()
        self.joined_fully = False
        self._task: asyncio.Task[None] | None = None

    def joined(self) -> bool:
        """Whether this member has joined its group with an assignment made knowing every one
        of its topics (readiness). The assignment may be empty: a member beyond the number of
        partitions stands by."""
        return self.joined_fully

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id=f"knooppunt-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.max_records,
            # A topic created just before the join can be missing from the first assignment;
            # the next metadata refresh brings a rebalance that adds it: within 5 s, not 5 min.
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        await start_client(self.consumer)
        self.consumer.subscribe(self.topics, listener=_Rebalance(self))
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.name}")

    async def stop(self, grace_s: float = 15.0) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace_s)
            except TimeoutError:
                self._task.cancel()  # not committed: read again by whoever takes the partition
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self.consumer is not None:
            await self.consumer.stop()

    async def _run(self) -> None:
        assert self.consumer is not None
        consumer = self.consumer
        while not self._stopping.is_set():
            self._resume_due(consumer)
            try:
                batches = await consumer.getmany(
                    timeout_ms=self.poll_timeout_ms, max_records=self.max_records
                )
            except KafkaError as exc:
                log.error("consumer_fetch_failed", consumer=self.name, error=redact_text(str(exc)))
                await asyncio.sleep(self.retry_pause_s)
                continue
            handled: dict[TopicPartition, int] = {}
            for tp, records in batches.items():
                next_offset = await self._handle(consumer, tp, records)
                if next_offset is not None:
                    handled[tp] = next_offset
            await self._commit(consumer, handled)

    async def _handle(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[ConsumerRecord]
    ) -> int | None:
        """Hand one partition's records to the handler; the offset to commit, if any."""
        try:
            deferred = await self.handler(records)
        except Exception as exc:
            log.error(
                "consumer_batch_failed",
                consumer=self.name,
                topic=tp.topic,
                partition=tp.partition,
                offset=records[0].offset,
                batch=len(records),
                error_class=type(exc).__name__,
                error=redact_text(str(exc)),
            )
            self._pause(consumer, tp, records[0].offset, self.retry_pause_s)
            return None
        if deferred is None:
            return int(records[-1].offset) + 1
        self._pause(consumer, tp, deferred.offset, deferred.seconds)
        return deferred.offset if deferred.offset > records[0].offset else None

    def _pause(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, seconds: float
    ) -> None:
        consumer.seek(tp, offset)
        consumer.pause(tp)
        self._paused[tp] = time.monotonic() + seconds

    def _resume_due(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        due = [tp for tp, until in self._paused.items() if until <= now]
        for tp in due:
            del self._paused[tp]
            if tp in consumer.assignment():
                consumer.resume(tp)

    async def _commit(self, consumer: AIOKafkaConsumer, handled: dict[TopicPartition, int]) -> None:
        if not handled:
            return
        try:
            await consumer.commit(handled)
        except (CommitFailedError, KafkaError) as exc:
            # A rebalance took the partitions: their new owner reads from the last commit, so
            # some records are handled twice (same idempotency keys), none lost.
            log.warning("consumer_commit_failed", consumer=self.name, error=redact_text(str(exc)))
