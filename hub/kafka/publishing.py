"""Publishing a contract event (built and validated by ``contracts.events.build_event``, so
nothing invalid reaches Kafka) and waiting for Kafka's acknowledgement."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiokafka.structs import RecordMetadata
    from faststream.kafka import KafkaBroker

    from contracts.cloudevents import CloudEvent

__all__ = ["send_event"]


async def send_event(
    broker: KafkaBroker, topic: str, event: CloudEvent, key: bytes, timeout_s: float = 10.0
) -> RecordMetadata:
    """Write ``event`` (binary mode) to ``topic`` and wait for Kafka's acknowledgement; raises
    TimeoutError after ``timeout_s`` or aiokafka's KafkaError (then it may still arrive)."""
    # asyncio.timeout, not wait_for: no task of its own per submission (5 % of the intake's CPU)
    async with asyncio.timeout(timeout_s):
        record: RecordMetadata = await broker.publish(
            event.data,
            topic=topic,
            key=key,
            headers={name: value.decode() for name, value in event.kafka_headers()},
        )
    return record
