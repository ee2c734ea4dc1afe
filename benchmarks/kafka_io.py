"""Kafka seen from the bench: pre-loading events and watching topics fill up.

The bench writes with the hub's own producer settings (acks=all, idempotence, linger 5 ms) and
learns the metadata of every topic it writes in one request first, so its own start-up is not
part of any figure.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.cloudevents import CloudEvent, source_urn
from contracts.events import event_key
from contracts.registry import contract_for
from hub.kafka.admin import partitions_of
from tests.samples import submission

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.measure import Samples

__all__ = ["SUBMITTED", "end_offsets_total", "preload", "submission_event", "watch_topics"]

SUBMITTED = contract_for("nl.gemeente.formulier.ingediend", 1)
_SOURCE = source_urn("00000001002564440000", "bench")


def submission_event(tenant: str, form_id: str = "parkeervergunning") -> tuple[bytes, CloudEvent]:
    """A fresh e-forms submission event of ``tenant``: its Kafka key and the CloudEvent."""
    body = submission(form_id)
    event = CloudEvent(
        id=str(uuid.uuid4()),
        source=_SOURCE,
        type=SUBMITTED.type,
        tenant=tenant,
        subject=body["submission_id"],
        data=orjson.dumps(body),
    )
    return event_key(tenant, body["submission_id"]), event


async def preload(bootstrap: str, targets: Sequence[tuple[str, str, str]], count: int) -> float:
    """Write ``count`` submission events, the i-th as ``targets[i % len(targets)]`` says (topic,
    tenant, form id); seconds taken. Returns once Kafka acknowledged every one."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    try:
        # One metadata request for every topic, instead of one per new topic as sends find them.
        await producer.client.set_topics(sorted({target[0] for target in targets}))
        started = time.perf_counter()
        pending = []
        for i in range(count):
            topic, tenant, form_id = targets[i % len(targets)]
            key, event = submission_event(tenant, form_id)
            pending.append(
                await producer.send(topic, event.data, key=key, headers=event.kafka_headers())
            )
        await asyncio.gather(*pending)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def end_offsets_total(consumer: AIOKafkaConsumer, partitions: Sequence[object]) -> int:
    offsets = await consumer.end_offsets(list(partitions))
    return int(sum(offsets.values()))


async def watch_topics(
    bootstrap: str,
    topics: Sequence[str],
    expect: int,
    timeout_s: float,
    interval_s: float = 0.05,
) -> Samples:
    """Poll the end offsets of ``topics`` until ``expect`` more records were written than when
    it began; the samples, counted from that start."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, topics)
        base = await end_offsets_total(consumer, partitions)
        samples: Samples = [(time.monotonic(), 0)]
        deadline = time.monotonic() + timeout_s
        while samples[-1][1] < expect:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{samples[-1][1]} of {expect} records in {timeout_s:.0f} s")
            await asyncio.sleep(interval_s)
            samples.append((time.monotonic(), await end_offsets_total(consumer, partitions) - base))
        return samples
    finally:
        await consumer.stop()
