"""Delivery: the sinks of every push destination, the engine that drives them, the retry tiers.

- One delivery engine (hub.delivery.engine) reads every push destination's topic and calls its
  sink; a slow or broken back office delays only its own deliveries.
- A failed delivery never blocks the partition: it goes to the next retry tier
  (``knooppunt.retry.<delay>``, shared, the target in headers) or, when permanent or exhausted,
  to the tenant's dead letters, with its history in ``knooppunt_*`` headers (hub.delivery.history).
  A tier only keeps time: a due record goes back onto its destination topic.
- Offsets are committed only after the event was delivered or is safely on its next topic.
- The engine refuses an event whose tenant is not its topic's, and quarantines it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.registry import sink_connector
from connectors.sdk import (
    ConnectionPool,
    Delivered,
    Delivery,
    Permanent,
    Retryable,
    Throttled,
)
from contracts.cloudevents import CloudEvent
from hub.config import duration_seconds
from hub.connector_host.context import connector_context
from hub.delivery.blocks import BLOCKED, BlockReader, write_block
from hub.delivery.engine import DeliveryEngine, DestinationStatus, EngineTarget
from hub.delivery.enrichment import (
    BagAdressen,
    BrpPersonen,
    EnrichingSink,
    KvkBasisprofiel,
    Lookup,
)
from hub.delivery.history import (
    PREFIX,
    AttemptRecord,
    DeadLetter,
    DeliveryError,
    Retry,
    attempt_outcome,
    due_in_s,
    failure_headers,
    fresh_history,
    history_of,
    idempotency_key,
    next_progress,
    next_step,
)
from hub.delivery.outcomes import (
    DELIVERED,
    FAILED,
    delivered_event,
    failed_event,
    reports_outcome,
    routes_outcomes,
)
from hub.delivery.scheduling import CircuitBreaker
from hub.errors import ContractError, KnooppuntError
from hub.kafka.consuming import Consumer, Defer, RecordConsumer
from hub.kafka.headers import text_headers
from hub.kafka.topics import QUARANTINE, UNKNOWN_TENANT
from hub.observability.logs import get_logger
from hub.observability.metrics import BoundedLabel
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiokafka import ConsumerRecord

    from connectors.sdk import AttachmentStore, ConnectorContext, Failure, HttpTransport, Sink
    from hub.config import HubConfig, Tenant
    from hub.config.models import Enrichment
    from hub.delivery.history import DeliveryHistory
    from hub.kafka.producing import RecordProducer
    from hub.kafka.topics import TopicNames
    from hub.observability.metrics import Metrics

__all__ = ["DeliveryWorkers", "TenantMismatchError"]

log = get_logger(__name__)
# A retry tier commits once per batch of up to this many records: a commit costs a round trip
# (about 10 ms with Kafka 4's group coordinator).
DELIVERY_BATCH = 100
MAX_WAIT_S = 2.0  # a retry tier partition is paused at most this long before it is read again


class TenantMismatchError(KnooppuntError):
    """An event on a tenant's destination topic names another tenant: a security error."""


@dataclass(frozen=True)
class _Target:
    tenant: str
    destination: str
    sink: Sink
    max_in_flight: int | None = None  # the destination's own, else the policy's, else the sink's


def _lookups(tenant: Tenant, enrich: Enrichment, context: ConnectorContext) -> list[Lookup]:
    """The registries a destination's enrichment asks (config checks: the tenant has each)."""
    lookups: list[Lookup] = []
    if enrich.brp is not None and tenant.brp is not None:
        lookups.append(BrpPersonen(tenant.brp, tenant.oin, context, list(enrich.brp)))
    if enrich.kvk and tenant.kvk is not None:
        lookups.append(KvkBasisprofiel(tenant.kvk, context))
    if enrich.bag is not None and tenant.bag is not None:
        lookups.append(BagAdressen(tenant.bag, enrich.bag, context))
    return lookups


class DeliveryWorkers:
    """The sinks of every push destination, the delivery engine, and the retry tiers' consumer."""

    def __init__(
        self,
        producer: RecordProducer,
        config: HubConfig,
        metrics: Metrics,
        names: TopicNames,
        environ: Mapping[str, str] | None = None,
        transport: HttpTransport | None = None,
        attachments: AttachmentStore | None = None,
    ) -> None:
        """Build every push destination's sink (no I/O yet). ``environ``: where secrets named in
        settings are read (default os.environ); ``transport``: for tests, every sink's HTTP;
        ``attachments``: the blob store sinks read attachments from."""
        self.producer, self.config, self.metrics, self.names = producer, config, metrics, names
        # Outcome events for tenants that route them (hub.delivery.outcomes): publishing and
        # routing one per delivery halved deliveries/s (2,020 -> 1,078 at 8 in flight), a cost
        # only a tenant that uses them should pay.
        self.oins = {
            tenant.id: tenant.oin
            for tenant in config.tenants
            if any(routes_outcomes(route.contract) for route in config.routes_of(tenant.id))
        }
        self._outcomes: set[asyncio.Future[Any]] = set()  # outcome events not acked yet
        self._transport, self._attachments = transport, attachments
        self._closing: set[asyncio.Task[None]] = set()  # sinks of removed destinations
        self.targets: dict[str, _Target] = {}
        self.pool = ConnectionPool()  # one for every push destination (connections per host)
        self.running_engine: DeliveryEngine | None = None
        self.codes = BoundedLabel()  # failure codes as metric labels
        for tenant in config.tenants:
            for destination in tenant.destinations:
                spec = sink_connector(destination.connector)
                if spec is None or spec.build is None:
                    continue  # the back office reads its destination topic itself
                context = connector_context(
                    tenant,
                    destination.name,
                    spec.name,
                    metrics,
                    environ,
                    transport,
                    self.pool,
                    attachments,
                )
                sink: Sink = spec.build(spec.config.model_validate(destination.settings), context)
                if destination.enrich is not None:
                    sink = EnrichingSink(sink, _lookups(tenant, destination.enrich, context))
                topic = names.destination(tenant.id, destination.name)
                self.targets[topic] = _Target(
                    tenant.id, destination.name, sink, destination.max_in_flight
                )

    async def push_to(
        self,
        tenant_id: str,
        destination: str,
        connector: str,
        settings: Mapping[str, object],
        secrets: Mapping[str, str],
    ) -> str:
        """Push to a destination made at runtime (an abonnement's callback, hub.notificaties):
        its sink is built from ``settings`` with ``secrets`` as its only environment, opened,
        and handed to the running engine; one already pushed under that name is replaced (its
        sink closed once its deliveries in flight are over). Returns the destination topic,
        which must exist. Raises KnooppuntError for an unknown tenant or connector, pydantic's
        ValidationError for settings the connector refuses, and what the sink's ``open``
        raises."""
        tenant, spec = self.config.tenant(tenant_id), sink_connector(connector)
        if tenant is None or spec is None or spec.build is None:
            raise KnooppuntError(f"cannot push to {tenant_id}/{destination} with {connector}")
        context = connector_context(
            tenant,
            destination,
            spec.name,
            self.metrics,
            secrets,
            self._transport,
            self.pool,
            self._attachments,
        )
        sink: Sink = spec.build(spec.config.model_validate(dict(settings)), context)
        await sink.open()
        topic = self.names.destination(tenant_id, destination)
        replaced = self.targets.get(topic)
        self.targets[topic] = _Target(tenant_id, destination, sink)
        if self.running_engine is not None:
            self.running_engine.add_target(self._engine_target(topic, self.targets[topic]))
        if replaced is not None:
            self._close_later(replaced.sink)
        return topic

    def stop_pushing(self, topic: str) -> None:
        """Stop pushing to a destination made at runtime (its abonnement was deleted): events
        still on its topic are left there (the engine moves past them); its sink is closed
        once its deliveries in flight are over."""
        target = self.targets.pop(topic, None)
        if target is None:
            return
        if self.running_engine is not None:
            self.running_engine.remove_target(topic)
        self._close_later(target.sink)

    def _close_later(self, sink: Sink, grace_s: float = 60.0) -> None:
        """Close a sink no longer used once deliveries that started with it can be over (a
        request takes at most three times its timeout; the SDK's timeouts are at most 120 s,
        most 10 s)."""

        async def close() -> None:
            await asyncio.sleep(grace_s)
            with contextlib.suppress(Exception):
                await sink.close()

        task = asyncio.create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _engine_target(self, topic: str, target: _Target) -> EngineTarget:
        policy = self.config.delivery
        return EngineTarget(
            topic,
            target.tenant,
            target.destination,
            target.max_in_flight or policy.max_in_flight or target.sink.max_in_flight,
        )

    def push_topics(self) -> list[str]:
        """The destination topics the hub delivers (the others' back offices read them)."""
        return list(self.targets)

    def engine(self, bootstrap: str) -> DeliveryEngine:
        """The one consumer of every push destination (hub.delivery.engine), not started."""
        policy = self.config.delivery
        break_s = float(duration_seconds(policy.circuit_break))
        targets = {topic: self._engine_target(topic, t) for topic, t in self.targets.items()}
        self.running_engine = DeliveryEngine(
            bootstrap=bootstrap,
            topic_prefix=self.names.prefix,
            group_id=self.names.group("deliver"),
            targets=targets,
            attempt=self._attempt_from_topic,
            breaker=lambda: CircuitBreaker(policy.circuit_failures, break_s),
            block_after_s=float(duration_seconds(policy.block_after)),
            on_block=self._keep_block,
            max_in_flight_total=policy.max_in_flight_total,
            before_commit=self.outcomes_kept,
        )
        return self.running_engine

    def status(self) -> list[DestinationStatus]:
        """Every push destination's state (empty when this process does not deliver)."""
        return [] if self.running_engine is None else self.running_engine.status()

    def consumers(self, bootstrap: str, runtime_destinations: bool = False) -> list[Consumer]:
        """The delivery engine and the retry tiers' consumer (not started); none without a push
        destination, unless ``runtime_destinations`` may come (abonnementen: ``push_to``). One
        consumer reads every tier: a partition whose first record is not due
        yet is paused until it is, so tiers never wait on each other (one group, not one per
        tier: 7 tiers were 7 fetch loops, heartbeats and connections)."""
        if not self.targets and not runtime_destinations:
            return []
        tiers = RecordConsumer(
            bootstrap=bootstrap,
            topics=[self.names.retry(delay) for delay in self.config.delivery.retry_delays],
            group_id=self.names.group("retry"),
            handler=self._retry_tier,
            name="retry",
            max_records=DELIVERY_BATCH,
        )
        engine = self.engine(bootstrap)
        blocks = BlockReader(
            bootstrap,
            self.names.destination_blocks(),
            lambda change, live: engine.apply_block(
                change.destination_topic, change.state == BLOCKED, change.by, live
            ),
        )
        return [blocks, engine, tiers]  # blocks first: known before the engine delivers

    async def _keep_block(self, destination_topic: str) -> None:
        await write_block(
            self.producer,
            self.names.destination_blocks(),
            destination_topic,
            BLOCKED,
            "delivery engine",
        )

    async def open(self) -> None:
        """Open every sink (connections, tokens) before the consumers start."""
        for target in self.targets.values():
            await target.sink.open()

    async def close(self) -> None:
        for task in list(self._closing):
            task.cancel()
        for target in self.targets.values():
            await target.sink.close()
        await self.pool.aclose()

    async def _attempt_from_topic(
        self, record: ConsumerRecord, target: EngineTarget, hold: bool = False
    ) -> str:
        """The engine's attempt: a record read from a destination topic. One that a retry tier
        handed back carries its history (``knooppunt_*`` naming this very topic); any other
        starts afresh."""
        own = self.targets.get(target.topic)
        if own is None:  # removed a moment ago (stop_pushing): not delivered, moved past
            return "refused"
        headers = text_headers(record.headers)
        if headers.get(f"{PREFIX}target_topic") != record.topic:
            return await self._attempt(record, own, fresh_history(record, own.destination), hold)
        try:
            history = history_of(record)
        except ContractError as exc:
            await self._dead_letter(record, fresh_history(record, own.destination), exc, own.tenant)
            return "refused"
        return await self._attempt(record, own, history, hold)

    async def _retry_tier(self, records: Sequence[ConsumerRecord]) -> Defer | None:
        """Hand each due record back to its destination topic, in order; stop at the first one
        not due yet. A tier only keeps time: it never calls a back office, so no back office,
        however slow, delays another's retries."""
        for record in records:
            try:
                history = history_of(record)
            except ContractError as exc:  # not a record the hub wrote: keep it, never stall
                await self._dead_letter(
                    record, fresh_history(record, ""), exc, self._tenant_of(record)
                )
                continue
            wait = due_in_s(text_headers(record.headers), datetime.now(UTC))
            if wait > 0:
                return Defer(record.offset, min(wait, MAX_WAIT_S))
            if history.target_topic not in self.targets:
                error = KnooppuntError(f"destination {history.target_topic} is no longer pushed")
                await self._dead_letter(record, history, error, self._tenant_of(record))
            else:  # the record with its history, as the engine reads it (_attempt_from_topic)
                await self._move(record, history.target_topic, list(record.headers or ()))
        return None

    def _tenant_of(self, record: ConsumerRecord) -> str:
        tenant = text_headers(record.headers).get("ce_tenant", "")
        return tenant if self.config.tenant(tenant) is not None else UNKNOWN_TENANT

    async def _attempt(
        self,
        record: ConsumerRecord,
        target: _Target,
        history: DeliveryHistory,
        hold: bool = False,
    ) -> str:
        """One delivery attempt; afterwards the event is delivered, or on its next topic, or
        (``hold``: a probe that failed retryably) still where it was. Returns what it came to
        (hub.delivery.engine.AttemptResult)."""
        try:
            event = CloudEvent.from_kafka(record.headers or (), record.value)
            payload = event.payload()  # I-JSON, as at the intake and the router: numbers exact
        except ContractError as exc:
            await self._dead_letter(record, history, exc, target.tenant)
            return "refused"
        if event.tenant != target.tenant:
            await self._quarantine(record, history, event, target)
            return "refused"
        history = replace(history, attempts=history.attempts + 1)
        delivery = Delivery(
            event=event,
            tenant=target.tenant,
            destination=target.destination,
            idempotency_key=idempotency_key(event, target.destination),
            attempt=history.attempts,
            progress=history.progress,
        )
        started, raised = time.perf_counter(), False
        try:
            delivered = await target.sink.deliver(delivery)
        except Exception as exc:  # a sink's bug fails this one attempt, never the batch
            delivered, raised = Retryable(f"unexpected {type(exc).__name__}: {exc}"), True
        seconds = time.perf_counter() - started
        outcome = "error" if raised else attempt_outcome(delivered)
        self.metrics.attempt_seconds.labels(target.destination, outcome).observe(seconds)
        if not isinstance(delivered, Delivered):
            code = delivered.code or ""
            if not isinstance(delivered, Throttled):  # asked to slow down: not a failure
                failures = self.metrics.failures
                failures.labels(target.tenant, target.destination, self.codes(code)).inc()
            if hold and not isinstance(delivered, Permanent):
                self._held(target, event, history, delivered)
                return "held"
            attempt = AttemptRecord(
                history.attempts, datetime.now(UTC), outcome, code, round(seconds * 1000)
            )
            history = replace(history, attempt_log=(*history.attempt_log, attempt))
            await self._failed(record, history, delivered, target, event)
            if isinstance(delivered, Throttled):
                return "throttled"  # the back office is fine: its circuit stays as it is
            return "refused" if isinstance(delivered, Permanent) else "failed"
        if target.tenant in self.oins and reports_outcome(event):  # acked before the commit
            await self._report(
                delivered_event(
                    event,
                    self.oins[target.tenant],
                    target.destination,
                    history.attempts,
                    delivered.reference,
                    datetime.now(UTC),
                    payload,
                )
            )
        self.metrics.deliveries.labels(target.tenant, target.destination, "delivered").inc()
        self.metrics.delivery_latency.labels(target.destination).observe(
            max(0.0, time.time() - event.time.timestamp())
        )
        log.debug(
            "event_delivered",
            tenant=target.tenant,
            destination=target.destination,
            event_id=event.id,
            attempt=history.attempts,
            reference=delivered.reference,
        )
        return "delivered"

    def _held(
        self, target: _Target, event: CloudEvent, history: DeliveryHistory, failure: Failure
    ) -> None:
        """A probe of an open circuit failed: the event stays where it is for the next probe.
        Counted and logged like any failed attempt (a back office that is down shows in the
        failure ratio, not as no data)."""
        error = DeliveryError.of(failure)
        self.metrics.deliveries.labels(target.tenant, target.destination, "held").inc()
        log.warning(
            "delivery_held",
            tenant=target.tenant,
            destination=target.destination,
            event_id=event.id,
            attempt=history.attempts,
            error_class=type(error).__name__,
            error_status=error.status,
            error=redact_text(str(error)),
        )

    async def _failed(
        self,
        record: ConsumerRecord,
        history: DeliveryHistory,
        failure: Failure,
        target: _Target,
        event: CloudEvent | None = None,
    ) -> None:
        """A failed outcome: to the next retry tier with the progress it reports, or to dead
        letters. Throttled is retried like Retryable (counted apart)."""
        now = datetime.now(UTC)
        error = DeliveryError.of(failure)
        history = replace(history, progress=next_progress(history, failure))
        try:
            step = next_step(
                history,
                error.permanent,
                error.retry_after_s,
                self.config.delivery.retry_delays,
                now,
            )
            headers = (
                failure_headers(record, history, error, now, step)
                if isinstance(step, Retry)
                else []
            )
        except Exception as exc:  # what a back office answered may not stall its destination
            reason = f"its retry could not be planned: {type(exc).__name__}: {exc}"
            await self._dead_letter(record, history, error, target.tenant, reason, event)
            return
        if isinstance(step, DeadLetter):
            await self._dead_letter(record, history, error, target.tenant, step.reason, event)
            return
        await self._move(record, self.names.retry(step.delay), headers)
        outcome = "throttled" if isinstance(failure, Throttled) else "retry"
        self.metrics.deliveries.labels(target.tenant, target.destination, outcome).inc()
        log.warning(
            "delivery_failed",
            tenant=target.tenant,
            destination=target.destination,
            event_id=event.id if event is not None else None,
            attempt=history.attempts,
            retry_in=step.delay,
            error_class=type(error).__name__,
            error_status=error.status,
            error=redact_text(str(error)),
        )

    async def _report(self, outcome: tuple[CloudEvent, bytes]) -> None:
        """An outcome event (hub.delivery.outcomes) queued onto its contract topic. Its
        acknowledgement is awaited before the engine commits offsets (``outcomes_kept``), not
        here: waiting per delivery cost a delivery a Kafka round trip (447 -> 62 per second at
        1 in flight)."""
        event, key = outcome
        spec = DELIVERED if event.type == DELIVERED.type else FAILED
        ack = await self.producer.send(
            self.names.contract(spec), event.data, key, event.kafka_headers()
        )
        self._outcomes.add(ack)
        ack.add_done_callback(self._outcome_done)

    def _outcome_done(self, ack: asyncio.Future[Any]) -> None:
        self._outcomes.discard(ack)
        if not ack.cancelled() and ack.exception() is not None:
            log.error(
                "delivery_outcome_not_kept",
                error_class=type(ack.exception()).__name__,
                error=redact_text(str(ack.exception())),
            )

    async def outcomes_kept(self) -> None:
        """Returns once every outcome event queued so far is acknowledged (or refused: logged
        as ``delivery_outcome_not_kept``); the engine awaits it before each commit."""
        if self._outcomes:
            await asyncio.gather(*list(self._outcomes), return_exceptions=True)

    async def _move(
        self, record: ConsumerRecord, topic: str, headers: list[tuple[str, bytes | None]]
    ) -> None:
        """The original record onto ``topic`` (a retry tier, dead letters, quarantine) with its
        history in ``headers``; returns once Kafka acknowledged it, so the offset may be
        committed after."""
        await self.producer.keep(topic, record.value, record.key, headers)

    async def _dead_letter(
        self,
        record: ConsumerRecord,
        history: DeliveryHistory,
        error: Exception,
        tenant: str,
        reason: str = "not deliverable",
        event: CloudEvent | None = None,
    ) -> None:
        """The record onto the tenant's dead letters with its cause; for a readable ``event``
        (not an outcome itself), then its ``mislukt`` outcome."""
        now = datetime.now(UTC)
        topic = self.names.dead_letter(tenant)
        await self._move(record, topic, failure_headers(record, history, error, now))
        if event is not None and reports_outcome(event) and tenant in self.oins:
            permanent = isinstance(error, DeliveryError) and error.permanent
            await self._report(
                failed_event(
                    event,
                    self.oins[tenant],
                    history.destination,
                    history.attempts,
                    error,
                    permanent,
                    now,
                )
            )
        self.metrics.deliveries.labels(tenant, history.destination, "dead_letter").inc()
        self.metrics.dead_letters.labels(tenant, type(error).__name__).inc()
        log.error(
            "delivery_dead_lettered",
            tenant=tenant,
            destination=history.destination,
            event_id=event.id if event is not None else None,
            attempts=history.attempts,
            reason=reason,
            error_class=type(error).__name__,
            error=redact_text(str(error)),
            topic=topic,
        )

    async def _quarantine(
        self, record: ConsumerRecord, history: DeliveryHistory, event: CloudEvent, target: _Target
    ) -> None:
        error = TenantMismatchError(
            f"event of tenant {event.tenant!r} on a topic of tenant {target.tenant}; not delivered"
        )
        topic = self.names.dead_letter(QUARANTINE)
        await self._move(record, topic, failure_headers(record, history, error, datetime.now(UTC)))
        self.metrics.quarantined.labels(target.tenant).inc()
        log.error(
            "event_quarantined",
            tenant=target.tenant,
            destination=target.destination,
            event_tenant=event.tenant if self.config.tenant(event.tenant) else "unknown",
            topic=topic,
        )
