"""The ``publish`` a source connector gets (connectors.sdk.source.Publish): validate against the
contract, publish to its topic, return once Kafka acknowledged the record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.sdk import NewEvent, Published
from contracts.cloudevents import source_urn
from contracts.events import build_event
from hub.connector_host.resends import content_digest
from hub.errors import KnooppuntError
from hub.kafka.publishing import send_event

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from connectors.sdk.source import Publish
    from hub.config import HubConfig
    from hub.connector_host.resends import RecentEvents
    from hub.kafka.topics import TopicNames
    from hub.observability.metrics import Metrics

__all__ = ["contract_publisher"]


def contract_publisher(
    broker: KafkaBroker,
    names: TopicNames,
    config: HubConfig,
    timeout_s: float = 10.0,
    recent: RecentEvents | None = None,
    metrics: Metrics | None = None,
) -> Publish:
    """A Publish on ``broker``: the CloudEvents source is the tenant's OIN URN with the event's
    ``source_system``. Raises ContractError (naming the field; nothing sent) for an invalid
    payload, KnooppuntError for an unknown tenant, TimeoutError or aiokafka's KafkaError when
    Kafka did not acknowledge within ``timeout_s`` (the hub answers those with 503).

    With ``recent``, an event id sent before is published once (the earlier answer returned)
    and the same id with other data raises ConflictingResendError (hub.connector_host.resends).
    With ``metrics``, each acknowledged event counts in ``knooppunt_events_published_total``
    (a resend answered from ``recent`` is not sent again, so not counted again).
    """

    tenants = {t.id: t for t in reversed(config.tenants)}  # per event: a lookup, not a scan

    async def publish(new: NewEvent) -> Published:
        tenant = tenants.get(new.tenant)
        if tenant is None:
            raise KnooppuntError(f"no tenant {new.tenant!r} here")
        event, key = build_event(
            new.spec,
            new.payload,
            tenant=new.tenant,
            source=source_urn(tenant.oin, new.source_system),
            event_id=new.event_id,
            traceparent=new.traceparent,
        )
        topic = names.contract(new.spec)

        async def send() -> Published:
            record = await send_event(broker, topic, event, key, timeout_s)
            if metrics is not None:
                metrics.events_published.labels(new.tenant, event.type).inc()
            return Published(event.id, event.type, topic, record.partition, record.offset)

        if recent is None:
            return await send()
        fingerprint = new.fingerprint or content_digest(event.data)
        return await recent.once(event.id, fingerprint, send)

    return publish
