"""A polling source on a real broker: checkpoints are stored only after Kafka acknowledged the
events, so a crash mid-batch resumes from the last stored checkpoint and skips nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from faststream.kafka import KafkaBroker

from connectors.sdk import ConnectorContext, NewEvent, Published
from contracts.registry import CONTRACTS
from hub.config import HubConfig
from hub.connector_host.checkpoints import CheckpointStore
from hub.connector_host.context import connector_context
from hub.connector_host.polling import PollingRunner
from hub.connector_host.publishing import contract_publisher
from hub.kafka.admin import ensure_topics
from hub.kafka.topics import TopicNames
from hub.observability.metrics import Metrics
from tests.fakes.polling_source import CONTRACT, NumberedSubmissions, event_id_of
from tests.kafka_reading import read_topics
from tests.kafka_under_test import KafkaUnderTest

pytestmark = pytest.mark.kafka


class SimulatedCrashError(Exception):
    """Stands in for the process dying between two publishes."""


@asynccontextmanager
async def _hub_side(
    kafka: KafkaUnderTest, names: TopicNames, config: HubConfig
) -> AsyncIterator[tuple[Callable[[NewEvent], Awaitable[Published]], CheckpointStore]]:
    """What one hub process has: a broker to publish with and the checkpoint store, read back
    from Kafka at start (a restart is a new one of these)."""
    broker = KafkaBroker(kafka.bootstrap)
    await broker.connect()
    store = CheckpointStore(kafka.bootstrap, names)
    await store.start()
    try:
        yield contract_publisher(broker, names, config), store
    finally:
        await store.stop()
        await broker.stop()


def _context(config: HubConfig) -> ConnectorContext:
    return connector_context(config.tenants[0], "numbered", "numbered", Metrics(), environ={})


async def test_a_crash_mid_batch_resumes_from_the_stored_checkpoint_and_skips_nothing(
    kafka: KafkaUnderTest, prefix: str, demo_config: HubConfig
) -> None:
    names = TopicNames(prefix)
    await ensure_topics(kafka.bootstrap, [names.contract(s) for s in CONTRACTS], partitions=3)
    source = NumberedSubmissions(total=10, batch=4)

    async with _hub_side(kafka, names, demo_config) as (publish, store):
        published: list[str] = []

        async def publish_then_crash(event: NewEvent) -> Published:
            if len(published) == 6:  # second batch (5..8): 5 and 6 are on Kafka, then it dies
                raise SimulatedCrashError
            published.append(event.event_id)
            return await publish(event)

        runner = PollingRunner("numbered", source, _context(demo_config), publish_then_crash, store)
        assert await runner.poll_once() == 4
        with pytest.raises(SimulatedCrashError):
            await runner.poll_once()
        assert store.get(runner.key) == "4"  # the half-published batch did not move it

    async with _hub_side(kafka, names, demo_config) as (publish, store):  # the restart
        runner = PollingRunner("numbered", source, _context(demo_config), publish, store)
        assert store.get(runner.key) == "4"  # read back from the compacted topic
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        for _ in range(200):
            if store.get(runner.key) == "10":
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    assert source.polls[:3] == [None, "4", "4"]  # the restart asked from the checkpoint again
    records = await read_topics(kafka.bootstrap, [names.contract(CONTRACT)], expect=12)
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert sorted(set(ids)) == sorted(event_id_of(n) for n in range(1, 11))  # none skipped
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    assert duplicated == sorted([event_id_of(5), event_id_of(6)])  # only the crashed batch's
    assert len(ids) == 12


async def test_a_checkpoint_is_stored_only_when_it_moved(
    kafka: KafkaUnderTest, prefix: str, demo_config: HubConfig
) -> None:
    names = TopicNames(prefix)
    await ensure_topics(kafka.bootstrap, [names.contract(s) for s in CONTRACTS], partitions=3)
    source = NumberedSubmissions(total=2, batch=4)
    async with _hub_side(kafka, names, demo_config) as (publish, store):
        runner = PollingRunner("numbered", source, _context(demo_config), publish, store)
        assert [await runner.poll_once() for _ in range(3)] == [2, 0, 0]
    records = await read_topics(kafka.bootstrap, [store.topic], expect=1)
    assert [(r.key, r.value) for r in records] == [(b"numbered:0363", b"2")]
