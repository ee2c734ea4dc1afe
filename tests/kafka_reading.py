"""Reading and writing raw records in tests, the way a back office or a bad producer would."""

from __future__ import annotations

import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from hub.kafka.admin import partitions_of

__all__ = ["produce_raw", "read_topics"]


async def read_topics(
    bootstrap: str,
    topics: Sequence[str],
    expect: int,
    timeout_s: float = 20.0,
    settle_s: float = 1.0,
) -> list[ConsumerRecord]:
    """Every record on ``topics`` from the start: waits for ``expect`` records, then ``settle_s``
    more so that an unexpected extra record (a duplicate, a leak) is seen too."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        partitions = await partitions_of(bootstrap, topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < (settle_until or deadline):
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
            if settle_until is None and len(records) >= expect:
                settle_until = time.monotonic() + settle_s
    finally:
        await consumer.stop()
    return records


async def produce_raw(
    bootstrap: str,
    topic: str,
    value: bytes,
    key: bytes | None = None,
    headers: Sequence[tuple[str, bytes]] = (),
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=list(headers))
    finally:
        await producer.stop()
