"""The router: reads contract topics, publishes one copy per matched destination.

The offset of an event is committed only after every copy is acknowledged by Kafka (FastStream's
ack policy: ack after the handler returns, seek back and retry when it raises). Events that break
their contract go to the tenant's dead-letter topic with the cause in headers.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faststream import AckPolicy
from faststream.kafka import KafkaMessage

from contracts.cloudevents import CloudEvent
from contracts.registry import CONTRACTS
from hub.errors import ContractError
from hub.logs import get_logger
from hub.redaction import redact_text
from hub.routing import plan_routing
from hub.topics import UNKNOWN_TENANT, TopicNames

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord
    from faststream.kafka import KafkaBroker
    from faststream.kafka.subscriber.usecase import DefaultSubscriber

    from hub.config import HubConfig
    from hub.metrics import Metrics

__all__ = ["register_router"]

RETRY_PAUSE_S = 1.0  # before a failed event is read again, so an outage is not a hot loop
log = get_logger("hub.router")


def _dead_letter_headers(record: ConsumerRecord, error: ContractError) -> dict[str, str]:
    original = {name: raw.decode("utf-8", "replace") for name, raw in record.headers or ()}
    return {
        **original,
        "knooppunt_error_class": type(error).__name__,
        "knooppunt_error_field": error.field or "",
        "knooppunt_error_message": redact_text(str(error)),
        "knooppunt_original_topic": record.topic,
        "knooppunt_original_partition": str(record.partition),
        "knooppunt_original_offset": str(record.offset),
        "knooppunt_failed_at": datetime.now(UTC).isoformat(),
    }


def register_router(
    broker: KafkaBroker, config: HubConfig, metrics: Metrics, names: TopicNames
) -> DefaultSubscriber:
    """Subscribe the router to every contract topic; return the subscriber (for readiness)."""
    subscriber = broker.subscriber(
        *[names.contract(spec) for spec in CONTRACTS],
        group_id=names.group("router"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title="router",
        description="Copies each contract event to the destination topics of its tenant's routes.",
    )

    @subscriber
    async def route_event(message: KafkaMessage) -> None:
        record: ConsumerRecord = message.raw_message
        try:
            await _route(record)
        except Exception as exc:
            # Not committed: FastStream seeks back and the event is read again after the pause.
            log.error(
                "event_routing_failed",
                error_class=type(exc).__name__,
                error=redact_text(str(exc)),
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
            await asyncio.sleep(RETRY_PAUSE_S)
            raise

    async def _route(record: ConsumerRecord) -> None:
        tenant_header = dict(record.headers or ()).get("ce_tenant", b"").decode("utf-8", "replace")
        try:
            event = CloudEvent.from_kafka(record.headers or (), record.value)
        except ContractError as exc:
            await _dead_letter(record, exc, tenant_header)
            return
        plan = plan_routing(config, event, record.topic, names)
        if plan.dead_letter is not None:
            await _dead_letter(record, plan.dead_letter, event.tenant)
            return
        if plan.unrouted:
            metrics.events_unrouted.labels(event.tenant, event.type).inc()
            log.info("event_unrouted", tenant=event.tenant, contract=event.type, event_id=event.id)
            return
        headers = {name: raw.decode() for name, raw in event.kafka_headers()}
        await asyncio.gather(
            *(
                broker.publish(
                    record.value,
                    topic=names.destination(event.tenant, name),
                    key=record.key,
                    headers=headers,
                )
                for name in plan.destinations
            )
        )
        for name in plan.destinations:
            metrics.events_routed.labels(event.tenant, event.type, name).inc()
        metrics.routing_latency.labels(event.type).observe(
            max(0.0, time.time() - event.time.timestamp())
        )
        log.debug(
            "event_routed",
            tenant=event.tenant,
            contract=event.type,
            event_id=event.id,
            destinations=list(plan.destinations),
        )

    async def _dead_letter(record: ConsumerRecord, error: ContractError, tenant: str) -> None:
        known = config.tenant(tenant) is not None
        topic = names.dead_letter(tenant if known else UNKNOWN_TENANT)
        await broker.publish(
            record.value,
            topic=topic,
            key=record.key,
            headers=_dead_letter_headers(record, error),
        )
        metrics.dead_letters.labels(tenant if known else UNKNOWN_TENANT, "contract").inc()
        log.warning(
            "event_dead_lettered",
            tenant=tenant if known else UNKNOWN_TENANT,
            topic=topic,
            error_field=error.field,
            error=redact_text(str(error)),
            original_topic=record.topic,
            original_offset=record.offset,
        )

    return subscriber
