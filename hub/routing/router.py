"""The router: reads contract topics, publishes one copy per matched destination.

It works in batches: every copy (and every dead letter) of a batch is handed to the producer in
record order, all acknowledgements are awaited together, and only then is the batch's offset
committed (FastStream's ack policy: commit after the handler returns; on an exception seek back
to the batch's first records and read them again). Events that break their contract go to their
tenant's dead-letter topic with the cause in headers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faststream import AckPolicy
from faststream.kafka import KafkaMessage

from contracts.cloudevents import CloudEvent
from contracts.registry import CONTRACTS
from hub.delivery.history import failure_headers, history_of
from hub.errors import ContractError, UnroutedError
from hub.kafka.topics import UNKNOWN_TENANT, TopicNames
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text
from hub.routing.rules import plan_routing

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord
    from faststream.kafka import KafkaBroker
    from faststream.kafka.subscriber.usecase import BatchSubscriber

    from hub.config import HubConfig
    from hub.observability.metrics import Metrics

__all__ = ["BATCH_SIZE", "register_router"]

BATCH_SIZE = 500
RETRY_PAUSE_S = 1.0  # before a failed batch is read again, so an outage is not a hot loop
log = get_logger(__name__)


@dataclass
class _Sent:
    """Copies of one record handed to the producer, and what to count once they are acked."""

    acks: list[Awaitable[object]]
    account: Callable[[], None]


class Router:
    def __init__(
        self, broker: KafkaBroker, config: HubConfig, metrics: Metrics, names: TopicNames
    ) -> None:
        self.broker, self.config, self.metrics, self.names = broker, config, metrics, names

    async def route_batch(self, records: tuple[ConsumerRecord, ...]) -> None:
        sent = [await self._route(record) for record in records]  # enqueued in record order
        await asyncio.gather(*(ack for one in sent for ack in one.acks))
        for one in sent:
            one.account()

    async def _send(
        self, record: ConsumerRecord, topic: str, headers: dict[str, str]
    ) -> Awaitable[object]:
        future: Awaitable[object] = await self.broker.publish(
            record.value, topic=topic, key=record.key, headers=headers, no_confirm=True
        )
        return future

    async def _route(self, record: ConsumerRecord) -> _Sent:
        tenant_header = dict(record.headers or ()).get("ce_tenant", b"").decode("utf-8", "replace")
        try:
            event = CloudEvent.from_kafka(record.headers or (), record.value)
        except ContractError as exc:
            return await self._dead_letter(record, exc, tenant_header)
        plan = plan_routing(self.config, event, record.topic, self.names)
        if plan.dead_letter is not None:
            return await self._dead_letter(record, plan.dead_letter, event.tenant)
        if plan.unrouted:
            return _Sent([], lambda: self._account_unrouted(event))
        headers = {name: raw.decode() for name, raw in event.kafka_headers()}
        acks = [
            await self._send(record, self.names.destination(event.tenant, name), headers)
            for name in plan.destinations
        ]
        return _Sent(acks, lambda: self._account_routed(event, plan.destinations))

    def _account_unrouted(self, event: CloudEvent) -> None:
        self.metrics.events_unrouted.labels(event.tenant, event.type).inc()
        log.info("event_unrouted", tenant=event.tenant, contract=event.type, event_id=event.id)

    def _account_routed(self, event: CloudEvent, destinations: tuple[str, ...]) -> None:
        for name in destinations:
            self.metrics.events_routed.labels(event.tenant, event.type, name).inc()
        latency = max(0.0, time.time() - event.time.timestamp())
        self.metrics.routing_latency.labels(event.type).observe(latency)
        log.debug(
            "event_routed",
            tenant=event.tenant,
            contract=event.type,
            event_id=event.id,
            destinations=list(destinations),
        )

    async def _dead_letter(
        self, record: ConsumerRecord, error: ContractError | UnroutedError, tenant: str
    ) -> _Sent:
        label = tenant if self.config.tenant(tenant) is not None else UNKNOWN_TENANT
        topic = self.names.dead_letter(label)
        ack = await self._send(
            record, topic, failure_headers(record, history_of(record, ""), error, datetime.now(UTC))
        )

        def account() -> None:
            self.metrics.dead_letters.labels(label, type(error).__name__).inc()
            log.warning(
                "event_dead_lettered",
                tenant=label,
                topic=topic,
                error_field=error.field,
                error=redact_text(str(error)),
                original_topic=record.topic,
                original_offset=record.offset,
            )

        return _Sent([ack], account)


def register_router(
    broker: KafkaBroker, config: HubConfig, metrics: Metrics, names: TopicNames
) -> BatchSubscriber:
    """Subscribe the router to every contract topic; return the subscriber (for readiness)."""
    router = Router(broker, config, metrics, names)
    subscriber = broker.subscriber(
        *[names.contract(spec) for spec in CONTRACTS],
        group_id=names.group("router"),
        auto_offset_reset="earliest",
        batch=True,
        max_records=BATCH_SIZE,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title="router",
        description="Copies each contract event to the destination topics of its tenant's routes.",
    )

    @subscriber
    async def route_events(message: KafkaMessage) -> None:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        try:
            await router.route_batch(records)
        except Exception as exc:
            # Not committed: FastStream seeks back and the batch is read again after the pause.
            first = records[0]
            log.error(
                "event_routing_failed",
                error_class=type(exc).__name__,
                error=redact_text(str(exc)),
                topic=first.topic,
                partition=first.partition,
                offset=first.offset,
                batch=len(records),
            )
            await asyncio.sleep(RETRY_PAUSE_S)
            raise

    return subscriber
