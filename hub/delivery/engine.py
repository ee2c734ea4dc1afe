"""The delivery engine: one consumer-group member reads every push destination's topic and
schedules deliveries in-process (docs/design.md, "Delivery engine").

- One consumer for all destinations, subscribed by pattern (``knooppunt.deliver.*``): its cost
  does not grow with the number of destinations. Partitions of destinations the hub does not
  push for (``topic`` sinks: the back office reads them) are paused at once and never fetched.
- Per destination at most ``max_in_flight`` deliveries at once, never two of one key (a zaak, a
  submission) at once, in offset order per key (hub.delivery.scheduling.DestinationQueue).
- Offsets are committed per partition up to the lowest delivery not yet finished
  (OffsetTracker): a crash re-delivers only unfinished work, with the same idempotency keys.
- A destination's partitions are paused while its backlog is full or its circuit is open, and
  resumed after; polling never waits on a back office, so a slow one cannot push the consumer
  past ``max.poll.interval.ms`` into a rebalance, nor slow any other destination.
- Work is event-driven: a destination is looked at when records arrive for it, when one of its
  deliveries finishes, or when its circuit's break is over, never by scanning every destination
  and partition per poll (at 340 tenants that scan was 1,020 queues and 3,060 partitions, about
  7 times a second, with nothing to do).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from hub.delivery.scheduling import (
    BreakerState,
    CircuitBreaker,
    DestinationQueue,
    OffsetTracker,
    Queued,
)
from hub.kafka.clients import start_client
from hub.kafka.consuming import commit_offsets, knows_every_topic, refresh_metadata
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

__all__ = ["AttemptResult", "DeliveryEngine", "DestinationStatus", "EngineTarget"]

log = get_logger(__name__)
COMMIT_EVERY_S = 0.2  # commits are batched: one round trip per partition set, not per event
# A destination's partitions pause once it holds this many x max_in_flight events (and resume as
# soon as it holds fewer): enough fetched ahead that the destination never waits for a poll.
BACKLOG_FACTOR = 16
# Deliveries at once in one process, over every destination: 340 tenants x 3 destinations x 8
# each would be 8,160 tasks with their requests and buffers (the hub's peak RSS went past 250 MB
# delivering 6,000 events). Destinations take turns for the free places (round robin).
MAX_IN_FLIGHT_TOTAL = 512
FETCH_MAX_WAIT_MS = 1000


@dataclass(frozen=True)
class EngineTarget:
    """A push destination as the engine sees it."""

    topic: str
    tenant: str
    destination: str
    max_in_flight: int


# What one attempt came to, for the breaker: "delivered", "failed" (the back office did not
# take it: counts toward opening the circuit; the event went to a retry tier), "throttled" (it
# asked to be called less, HTTP 429: to a retry tier, the circuit untouched), "held" (a probe
# of a half-open circuit failed: the event stays where it is, waiting for the next probe) or
# "refused" (permanent, quarantined, unreadable: about the event, not the back office).
AttemptResult = str
# attempt(record, target, hold): with ``hold`` (a probe) a retryable failure keeps the event in
# place instead of moving it on to a retry tier: while a back office is down, its events wait
# in Kafka, not in ever longer tiers, and flow as soon as it is back.
Attempt = Callable[["ConsumerRecord", EngineTarget, bool], Awaitable[AttemptResult]]


@dataclass(frozen=True)
class DestinationStatus:
    """One push destination as the engine sees it now."""

    tenant: str
    destination: str
    circuit: str  # closed, open, half_open
    failures_in_a_row: int
    reopens_in_s: float  # until an open circuit lets a probe through
    in_flight: int
    waiting: int  # fetched, not started (the destination's partitions pause when this grows)
    max_in_flight: int
    delivered: int = 0  # since this process started
    failed: int = 0  # attempts that did not deliver (retried, held, or dead-lettered)
    last_delivered_at: str | None = None  # RFC 3339, UTC
    last_failed_at: str | None = None


@dataclass
class _Tally:
    """What one destination's attempts came to in this process (DestinationStatus)."""

    delivered: int = 0
    failed: int = 0
    last_delivered: float | None = None  # epoch seconds
    last_failed: float | None = None

    def count(self, result: AttemptResult) -> None:
        if result == "delivered":
            self.delivered, self.last_delivered = self.delivered + 1, time.time()
        elif result in ("failed", "held", "refused"):
            self.failed, self.last_failed = self.failed + 1, time.time()


@dataclass
class _Job:
    record: ConsumerRecord
    tp: TopicPartition


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, engine: DeliveryEngine) -> None:
        self.engine = engine

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.engine.revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.engine.assigned_partitions(assigned)


class DeliveryEngine:
    """See the module docstring. ``attempt`` delivers one record to its target and returns an
    AttemptResult; it never raises for the event's or the back office's sake."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topic_prefix: str,
        group_id: str,
        targets: dict[str, EngineTarget],
        attempt: Attempt,
        breaker: Callable[[], CircuitBreaker] = CircuitBreaker,
        max_records: int = 500,
        block_after_s: float | None = None,
        on_block: Callable[[str], Awaitable[None]] | None = None,
        max_in_flight_total: int = MAX_IN_FLIGHT_TOTAL,
        before_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.bootstrap, self.group_id, self.targets = bootstrap, group_id, targets
        self.pattern = f"^{re.escape(topic_prefix)}knooppunt\\.deliver\\..+$"
        self.attempt, self.max_records = attempt, max_records
        self.block_after_s, self.on_block = block_after_s, on_block
        # What must be on Kafka before an offset is committed (the deliveries' outcome events)
        self.before_commit = before_commit
        self.breaker = breaker
        self.queues = {t.topic: DestinationQueue[_Job](t.max_in_flight) for t in targets.values()}
        self.breakers = {topic: breaker() for topic in targets}
        self.trackers: dict[TopicPartition, OffsetTracker] = {}
        self.consumer: AIOKafkaConsumer | None = None
        self.name = "deliver"
        self._tasks: set[asyncio.Task[None]] = set()
        self._task_partition: dict[asyncio.Task[None], TopicPartition] = {}
        self._paused: set[TopicPartition] = set()
        self._partitions: dict[str, set[TopicPartition]] = {}  # assigned, per pushed topic
        # destinations with waiting work that may start, in the order they take their turn
        self._ready: dict[str, None] = {}
        self.max_in_flight_total, self._in_flight_total = max_in_flight_total, 0
        self._reopening: dict[str, asyncio.TimerHandle] = {}  # open circuits: the probe timer
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._last_commit = 0.0
        self._joined = False
        self._tallies: dict[str, _Tally] = {}

    def joined(self) -> bool:
        """Whether this member has joined its group with an assignment made knowing every push
        destination's topic (readiness). The assignment may be empty: a member beyond the
        number of partitions stands by."""
        return self._joined

    def status(self) -> list[DestinationStatus]:
        """Each push destination's state now (``/destinations``, metrics, the CLI)."""
        now = time.monotonic()
        found = []
        for topic, target in self.targets.items():
            breaker, queue = self.breakers[topic], self.queues[topic]
            tally = self._tallies.get(topic, _Tally())
            found.append(
                DestinationStatus(
                    tenant=target.tenant,
                    destination=target.destination,
                    circuit=breaker.state.value,
                    failures_in_a_row=breaker.failures,
                    reopens_in_s=round(breaker.reopens_in(now), 1),
                    in_flight=queue.in_flight,
                    waiting=len(queue.waiting),
                    max_in_flight=target.max_in_flight,
                    delivered=tally.delivered,
                    failed=tally.failed,
                    last_delivered_at=_rfc3339(tally.last_delivered),
                    last_failed_at=_rfc3339(tally.last_failed),
                )
            )
        return found

    def add_target(self, target: EngineTarget) -> None:
        """Push for a destination made at runtime (an abonnement, hub.notificaties): partitions
        of its topic this member already holds (paused as not pushed) are fetched from now on,
        from their committed offsets; a topic new to the cluster is found by a metadata refresh
        asked for now (else within ``metadata_max_age_ms``) and comes with the next rebalance."""
        topic = target.topic
        self.targets[topic] = target
        if topic not in self.queues:
            self.queues[topic] = DestinationQueue[_Job](target.max_in_flight)
            self.breakers[topic] = self.breaker()
        if self.consumer is None:
            return
        held = {tp for tp in self.consumer.assignment() if tp.topic == topic}
        self._partitions.setdefault(topic, set()).update(held)
        for tp in held - self._paused:
            self.consumer.resume(tp)
        self._pause_if_held_back(topic)
        refresh_metadata(self.consumer)

    def remove_target(self, topic: str) -> None:
        """Stop pushing for a destination (its abonnement was deleted): what waits for it is
        dropped and its offsets move on, as for any topic the hub does not push for; deliveries
        in flight finish. Its partitions are paused."""
        if self.targets.pop(topic, None) is None:
            return
        self._ready.pop(topic, None)
        queue = self.queues.get(topic)
        for job in queue.drop(lambda _job: False) if queue is not None else []:
            tracker = self.trackers.get(job.tp)
            if tracker is not None:
                tracker.finished(job.record.offset)
        timer = self._reopening.pop(topic, None)
        if timer is not None:
            timer.cancel()
        if self.consumer is not None:
            for tp in self._partitions.pop(topic, set()):
                self.consumer.pause(tp)
                self._paused.discard(tp)
        self._wake.set()

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id="knooppunt-deliver",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.max_records,
            metadata_max_age_ms=30_000,  # a new destination topic is picked up within 30 s
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        await start_client(self.consumer)
        self.consumer.subscribe(pattern=self.pattern, listener=_Rebalance(self))
        self._loop_task = asyncio.create_task(self._run(), name="delivery-engine")

    async def stop(self, grace_s: float = 15.0) -> None:
        """Fetch nothing more, let deliveries in flight finish (at most ``grace_s``), commit
        what finished, leave the group. Records fetched but not started are read again later."""
        self._stopping.set()
        self._wake.set()
        for timer in self._reopening.values():
            timer.cancel()
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
        if self.consumer is not None:
            await self._commit(force=True)
            await self.consumer.stop()

    # --- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self.consumer is not None
        consumer = self.consumer
        while not self._stopping.is_set():
            self._start_ready()
            try:
                batches = await consumer.getmany(timeout_ms=50, max_records=self.max_records)
            except KafkaError as exc:
                log.error("consumer_fetch_failed", consumer=self.name, error=redact_text(str(exc)))
                await asyncio.sleep(1.0)
                continue
            for tp, records in batches.items():
                self._accept(tp, records)
            for topic in {tp.topic for tp in batches}:
                self._pause_if_held_back(topic)
            self._start_ready()
            await self._commit()
            if not batches:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 0.1)
                self._wake.clear()

    def _accept(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        tracker = self.trackers.setdefault(tp, OffsetTracker())
        queue = self.queues.get(tp.topic) if tp.topic in self.targets else None
        for record in records:
            tracker.started(record.offset)
            if queue is None:  # not pushed (any more): nothing to do, the offset moves on
                tracker.finished(record.offset)
            else:
                queue.add(record.key, _Job(record, tp))
        if queue is not None:
            self._ready[tp.topic] = None

    def _start_ready(self) -> None:
        """Let the ready destinations start, in turn, while places are free (each one leaves the
        ready set as it is looked at, and goes back to its end only if it found no place)."""
        now = time.monotonic()
        while self._ready and self._in_flight_total < self.max_in_flight_total:
            self._start_topic(next(iter(self._ready)), now)

    def _start_topic(self, topic: str, now: float) -> None:
        """Start what may start now for one destination (its limit, its keys, its circuit).

        The destination leaves the ready set when nothing more can start: a delivery of its that
        finishes, new records, or the end of its circuit's break puts it back."""
        queue, breaker = self.queues[topic], self.breakers[topic]
        self._ready.pop(topic, None)
        if topic not in self.targets:  # no longer pushed (hub.delivery.engine.remove_target)
            return
        while queue.waiting:
            if self._in_flight_total >= self.max_in_flight_total:
                self._ready[topic] = None  # its turn comes when a place is free (at the end)
                break
            if not breaker.allows(now):
                break
            probe = breaker.state is BreakerState.HALF_OPEN
            queued = queue.next_ready()
            if queued is None:
                if probe:
                    breaker.probing = False  # the probe did not start: let the next try
                break
            job = queued.item
            task = asyncio.create_task(self._deliver(topic, queued.key, job, probe))
            self._in_flight_total += 1
            self._tasks.add(task)
            self._task_partition[task] = job.tp
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        """A delivery finished: its destination's next one starts now, not at the next poll."""
        self._tasks.discard(task)
        tp = self._task_partition.pop(task, None)
        if tp is not None:
            self._in_flight_total -= 1
        if tp is not None and tp.topic in self.targets and not self._stopping.is_set():
            if self._ready:  # others wait for a place: they go first, this one after them
                self._ready[tp.topic] = None
                self._start_ready()
            else:
                self._start_topic(tp.topic, time.monotonic())
            self._resume_if_room(tp.topic)
        self._wake.set()

    def _held_back(self, topic: str, now: float) -> bool:
        """Whether a destination's partitions must not be fetched now: its backlog is full or
        its circuit is open."""
        queue, breaker = self.queues[topic], self.breakers[topic]
        full = queue.backlog >= BACKLOG_FACTOR * queue.max_in_flight
        return full or breaker.state is BreakerState.BLOCKED or breaker.reopens_in(now) > 0

    def _pause_if_held_back(self, topic: str) -> None:
        """Pause a destination's partitions once its backlog is full or its circuit opened."""
        if self.consumer is None or not self._held_back(topic, time.monotonic()):
            return
        for tp in self._partitions.get(topic, ()):
            if tp not in self._paused:
                self.consumer.pause(tp)
                self._paused.add(tp)

    def _resume_if_room(self, topic: str) -> None:
        """Resume a destination's paused partitions as soon as it has room again."""
        paused = [tp for tp in self._partitions.get(topic, ()) if tp in self._paused]
        if paused and self.consumer is not None and not self._held_back(topic, time.monotonic()):
            for tp in paused:
                self.consumer.resume(tp)
                self._paused.discard(tp)

    def _circuit_opened(self, topic: str) -> None:
        """Pause the destination for its break; when the break is over, let a probe start."""
        self._pause_if_held_back(topic)
        breaker = self.breakers[topic]
        delay = breaker.reopens_in(time.monotonic())
        previous = self._reopening.pop(topic, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._reopening[topic] = loop.call_later(delay, self._break_over, topic)

    def _break_over(self, topic: str) -> None:
        self._reopening.pop(topic, None)
        if self._stopping.is_set() or self.breakers[topic].state is BreakerState.BLOCKED:
            return
        if self.breakers[topic].reopens_in(time.monotonic()) > 0:  # the break was restarted
            self._circuit_opened(topic)
            return
        self._ready[topic] = None
        self._resume_if_room(topic)
        self._wake.set()

    # --- blocks (hub.delivery.blocks) ----------------------------------------------------------

    def _block(self, topic: str, by: str) -> None:
        """Block a destination that failed for ``block_after_s``; write the block to Kafka."""
        target, breaker = self.targets[topic], self.breakers[topic]
        failing_s = time.monotonic() - (breaker.failing_since or time.monotonic())
        breaker.block()
        timer = self._reopening.pop(topic, None)
        if timer is not None:
            timer.cancel()
        self._pause_if_held_back(topic)
        log.error(
            "destination_blocked",
            tenant=target.tenant,
            destination=target.destination,
            failing_s=round(failing_s),
            by=by,
        )
        if self.on_block is not None:
            task = asyncio.create_task(self._write_block(topic))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _write_block(self, topic: str) -> None:
        assert self.on_block is not None
        try:
            await self.on_block(topic)
        except Exception as exc:  # the block holds in this process; a restart probes again
            log.error("destination_block_not_kept", topic=topic, error=redact_text(str(exc)))

    def apply_block(self, topic: str, blocked: bool, by: str, live: bool = True) -> None:
        """A block or release read from Kafka (hub.delivery.blocks), ours or an operator's;
        ``live`` False: one the topic held at start (restored quietly)."""
        if topic not in self.targets:
            return
        target, breaker = self.targets[topic], self.breakers[topic]
        if blocked and breaker.state is not BreakerState.BLOCKED:
            breaker.block()
            self._pause_if_held_back(topic)
        elif not blocked and breaker.state is BreakerState.BLOCKED:
            breaker.release()
            if live:
                log.warning(
                    "destination_released",
                    tenant=target.tenant,
                    destination=target.destination,
                    by=by,
                )
            self._ready[topic] = None
            self._resume_if_room(topic)
            self._wake.set()

    async def _deliver(self, topic: str, key: bytes | None, job: _Job, probe: bool) -> None:
        target, breaker = self.targets[topic], self.breakers[topic]  # kept if it is removed
        try:
            result = await self.attempt(job.record, target, probe)
        except Exception as exc:  # Kafka did not take a retry or dead letter: read it again
            log.error(
                "consumer_batch_failed",
                consumer=self.name,
                topic=job.tp.topic,
                partition=job.tp.partition,
                offset=job.record.offset,
                batch=1,
                error_class=type(exc).__name__,
                error=redact_text(str(exc)),
            )
            self.queues[topic].finished(key)
            self._retry_later(job)
            return
        self._tallies.setdefault(topic, _Tally()).count(result)
        now = time.monotonic()
        if result == "held":  # a failed probe: the circuit opens again, the event waits
            breaker.failed(now)
            self.queues[topic].finished(key)
            self.queues[topic].waiting.appendleft(Queued(key, job))
            self._open_or_block(topic, now)
            return
        if result == "delivered":
            breaker.succeeded()
        elif result == "failed" and breaker.failed(now):
            log.warning(
                "circuit_opened",
                tenant=target.tenant,
                destination=target.destination,
                failures=breaker.failures,
                break_s=breaker.break_s,
            )
        self._open_or_block(topic, now)
        self.queues[topic].finished(key)
        tracker = self.trackers.get(job.tp)
        if tracker is not None:
            tracker.finished(job.record.offset)

    def _open_or_block(self, topic: str, now: float) -> None:
        """After an attempt: block a destination failing for ``block_after_s``; pause one whose
        circuit is open (opened now, or its break restarted) until its break is over."""
        breaker = self.breakers[topic]
        if self.block_after_s is not None and breaker.due_for_block(now, self.block_after_s):
            self._block(topic, by="delivery engine")
        elif breaker.state is BreakerState.OPEN:
            self._circuit_opened(topic)

    def _retry_later(self, job: _Job) -> None:
        """Hand the record back to its queue after a pause (Kafka briefly unavailable)."""

        async def again() -> None:
            await asyncio.sleep(1.0)
            if job.tp in self.trackers:
                self.queues[job.tp.topic].waiting.appendleft(Queued(job.record.key, job))
                self._ready[job.tp.topic] = None
                self._wake.set()

        task = asyncio.create_task(again())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _commit(self, force: bool = False) -> None:
        assert self.consumer is not None
        now = time.monotonic()
        if not force and now - self._last_commit < COMMIT_EVERY_S:
            return
        self._last_commit = now
        offsets = {}
        for tp, tracker in self.trackers.items():
            offset = tracker.committable()
            if offset is not None and offset != tracker.committed:
                offsets[tp] = offset
        if not offsets:
            return
        try:
            if self.before_commit is not None:
                await self.before_commit()
            await commit_offsets(self.consumer, offsets)
        except KafkaError as exc:
            log.warning("consumer_commit_failed", consumer=self.name, error=redact_text(str(exc)))
            return
        for tp, offset in offsets.items():
            self.trackers[tp].committed = offset

    # --- rebalances ----------------------------------------------------------------------------

    def assigned_partitions(self, assigned: set[TopicPartition]) -> None:
        """Pause the partitions of topics the hub does not push for (never fetched), and those
        of destinations held back now (circuit open, backlog full)."""
        assert self.consumer is not None
        self._joined = knows_every_topic(self.consumer, self.targets)
        for tp in assigned:
            if tp.topic not in self.targets:
                self.consumer.pause(tp)
            else:
                self._partitions.setdefault(tp.topic, set()).add(tp)
        for topic in {tp.topic for tp in assigned if tp.topic in self.targets}:
            self._pause_if_held_back(topic)

    async def revoked(self, revoked: set[TopicPartition]) -> None:
        """Forget what waits for revoked partitions, let their deliveries in flight finish
        (at most 10 s), commit up to the lowest unfinished: the new owner starts there."""
        for queue in self.queues.values():
            queue.drop(lambda job: job.tp not in revoked)
        in_flight = [task for task, tp in self._task_partition.items() if tp in revoked]
        if in_flight:
            await asyncio.wait(in_flight, timeout=10.0)
        await self._commit(force=True)
        for tp in revoked:
            self.trackers.pop(tp, None)
            self._paused.discard(tp)
            self._partitions.get(tp.topic, set()).discard(tp)


def _rfc3339(epoch_s: float | None) -> str | None:
    return None if epoch_s is None else datetime.fromtimestamp(epoch_s, UTC).isoformat()
