"""The ``publish`` a source connector gets (connectors.sdk.source.Publish): validate against the
contract, publish to its topic, return once Kafka acknowledged the record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.sdk import NewEvent, Published
from contracts.cloudevents import source_urn
from hub.errors import KnooppuntError
from hub.kafka.publishing import publish_contract_event

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from connectors.sdk.source import Publish
    from hub.config import HubConfig
    from hub.kafka.topics import TopicNames

__all__ = ["contract_publisher"]


def contract_publisher(
    broker: KafkaBroker, names: TopicNames, config: HubConfig, timeout_s: float = 10.0
) -> Publish:
    """A Publish on ``broker``: the CloudEvents source is the tenant's OIN URN with the event's
    ``source_system``. Raises ContractError (naming the field; nothing sent) for an invalid
    payload, KnooppuntError for an unknown tenant, TimeoutError or aiokafka's KafkaError when
    Kafka did not acknowledge within ``timeout_s`` (the hub answers those with 503)."""

    tenants = {t.id: t for t in reversed(config.tenants)}  # per event: a lookup, not a scan

    async def publish(new: NewEvent) -> Published:
        tenant = tenants.get(new.tenant)
        if tenant is None:
            raise KnooppuntError(f"no tenant {new.tenant!r} here")
        event, record = await publish_contract_event(
            broker,
            names,
            new.spec,
            new.payload,
            tenant=new.tenant,
            source=source_urn(tenant.oin, new.source_system),
            event_id=new.event_id,
            traceparent=new.traceparent,
            timeout_s=timeout_s,
        )
        return Published(
            event.id, event.type, names.contract(new.spec), record.partition, record.offset
        )

    return publish
