"""The router: reads contract topics, publishes one copy per matched destination.

It works per fetched batch of one partition (hub.kafka.consuming): every copy (and every dead
letter) is handed to the producer in record order, all acknowledgements are awaited together,
and only then is the batch committed. A record that cannot be routed for any reason of its own
(not a CloudEvent, breaks its contract, an unexpected error while deciding) goes to its
tenant's dead-letter topic with the cause in headers, and the batch goes on; only a copy that
Kafka does not acknowledge makes the batch be read again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from contracts.cloudevents import CloudEvent
from contracts.registry import CONTRACTS
from hub.delivery.history import failure_headers, fresh_history
from hub.errors import ContractError, KnooppuntError
from hub.kafka.consuming import RecordConsumer
from hub.kafka.headers import text_headers
from hub.kafka.producing import TOO_LARGE
from hub.kafka.topics import UNKNOWN_TENANT, TopicNames
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text
from hub.routing.rules import plan_routing

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

    from hub.config import HubConfig
    from hub.kafka.producing import RecordProducer
    from hub.observability.metrics import Metrics

__all__ = ["BATCH_SIZE", "Router", "router_consumer"]

BATCH_SIZE = 500
log = get_logger(__name__)


class RecordTooLargeError(KnooppuntError):
    """A copy of the record is larger than its destination topic takes."""

    field: str | None = None


class UnexpectedRoutingError(KnooppuntError):
    """Deciding where a record goes raised something no contract check foresaw."""

    field: str | None = None


@dataclass
class _Sent:
    """Copies of one record handed to the producer, and what to count once they are acked."""

    acks: list[Awaitable[object]]
    account: Callable[[], None]


class Router:
    def __init__(
        self, producer: RecordProducer, config: HubConfig, metrics: Metrics, names: TopicNames
    ) -> None:
        self.producer, self.config, self.metrics, self.names = producer, config, metrics, names

    async def route_batch(self, records: Sequence[ConsumerRecord]) -> None:
        """Route every record (enqueued in record order), then await every acknowledgement.

        A copy Kafka refuses as too large is the record's own fault: it goes to dead letters.
        Any other refusal (Kafka unavailable) raises: the batch is read again.
        """
        sent = [(record, await self._route(record)) for record in records]
        for record, one in sent:
            results = await asyncio.gather(*one.acks, return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if not errors:
                one.account()
            elif all(isinstance(error, TOO_LARGE) for error in errors):
                (await self._too_large(record, errors[0])).account()
            else:
                raise errors[0]

    async def _too_large(self, record: ConsumerRecord, error: BaseException) -> _Sent:
        tenant = text_headers(record.headers).get("ce_tenant", "")
        cause = RecordTooLargeError(f"a copy is too large for its destination topic: {error}")
        return await self._dead_letter(record, cause, tenant)

    async def _route(self, record: ConsumerRecord) -> _Sent:
        tenant = text_headers(record.headers).get("ce_tenant", "")
        try:
            event = CloudEvent.from_kafka(record.headers or (), record.value)
            tenant = event.tenant
            plan = plan_routing(self.config, event, record.topic, self.names)
        except ContractError as exc:
            return await self._dead_letter(record, exc, tenant)
        except Exception as exc:  # no record may stop the router: this one is dead-lettered
            error = UnexpectedRoutingError(f"{type(exc).__name__}: {exc}")
            return await self._dead_letter(record, error, tenant)
        if plan.dead_letter is not None:
            return await self._dead_letter(record, plan.dead_letter, event.tenant)
        if plan.unrouted:
            return _Sent([], lambda: self._account_unrouted(event))
        # The copy is the event in binary mode, whatever mode it came in: its ``data`` as the
        # value (never a structured envelope), its attributes as ce_ headers.
        headers = event.kafka_headers()
        try:
            acks: list[Awaitable[object]] = [
                await self.producer.send(
                    self.names.destination(event.tenant, name), event.data, record.key, headers
                )
                for name in plan.destinations
            ]
        except TOO_LARGE as exc:
            return await self._too_large(record, exc)
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
        self, record: ConsumerRecord, error: KnooppuntError, tenant: str
    ) -> _Sent:
        label = tenant if self.config.tenant(tenant) is not None else UNKNOWN_TENANT
        topic = self.names.dead_letter(label)
        headers = failure_headers(record, fresh_history(record, ""), error, datetime.now(UTC))
        await self.producer.keep(topic, record.value, record.key, headers)  # a rare path

        def account() -> None:
            self.metrics.dead_letters.labels(label, type(error).__name__).inc()
            log.warning(
                "event_dead_lettered",
                tenant=label,
                topic=topic,
                error_field=getattr(error, "field", None),
                error=redact_text(str(error)),
                original_topic=record.topic,
                original_offset=record.offset,
            )

        return _Sent([], account)


def router_consumer(
    bootstrap: str,
    producer: RecordProducer,
    config: HubConfig,
    metrics: Metrics,
    names: TopicNames,
) -> RecordConsumer:
    """The router's consumer-group member over every contract topic (not started)."""
    router = Router(producer, config, metrics, names)

    async def route(records: Sequence[ConsumerRecord]) -> None:
        await router.route_batch(records)

    return RecordConsumer(
        bootstrap=bootstrap,
        topics=[names.contract(spec) for spec in CONTRACTS],
        group_id=names.group("router"),
        handler=route,
        name="router",
        max_records=BATCH_SIZE,
    )
