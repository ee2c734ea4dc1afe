"""A Kafka client whose start is cut short leaves no connection open (hub.kafka.clients).

The reported case: a hub stopped while its lag meter started its clients left an
"Unclosed AIOKafkaConnection" behind (a ResourceWarning, found by the garbage collector in a
later test). aiokafka's bootstrap leaks its first connection when cancelled while it waits for
the metadata; the proxy below holds that answer back so the cancellation lands there.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import AIOKafkaConnection
from aiokafka.errors import KafkaConnectionError

from hub.config import HubConfig
from hub.kafka.clients import KafkaClient, start_client
from hub.kafka.topics import TopicNames
from hub.runtime.assembly import build_hub
from hub.runtime.consumer_lag import LagMeter
from hub.runtime.settings import Settings
from tests.fakes.slow_kafka import slow_after_first_request
from tests.kafka_under_test import KafkaUnderTest

pytestmark = pytest.mark.kafka

HOLD_S = 2.0


def _open_connections_to(address: str) -> list[AIOKafkaConnection]:
    host, port = address.rsplit(":", 1)
    gc.collect()
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, AIOKafkaConnection)
        and o.connected()
        and (o.host, str(o.port)) == (host, port)
    ]


CLIENTS: dict[str, Callable[[str], KafkaClient]] = {
    "consumer": lambda at: AIOKafkaConsumer(bootstrap_servers=at),
    "producer": lambda at: AIOKafkaProducer(bootstrap_servers=at),
    "admin": lambda at: AIOKafkaAdminClient(bootstrap_servers=at),
}


@pytest.mark.parametrize("kind", sorted(CLIENTS))
async def test_a_start_cancelled_while_bootstrapping_closes_its_connection(
    kafka: KafkaUnderTest, kind: str
) -> None:
    async with slow_after_first_request(kafka.bootstrap, HOLD_S) as proxy:
        client = CLIENTS[kind](proxy)
        starting = asyncio.create_task(start_client(client))
        await asyncio.sleep(HOLD_S / 4)  # ApiVersions answered, Metadata held back
        assert _open_connections_to(proxy), "the start had not connected yet"
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        assert _open_connections_to(proxy) == []


async def test_a_lag_meter_stopped_while_it_starts_its_clients_leaves_no_connection(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    names = TopicNames(prefix)
    async with slow_after_first_request(kafka.bootstrap, HOLD_S) as proxy:
        meter = LagMeter(proxy, {names.group("router"): []}, names)
        running = asyncio.create_task(meter.run(interval_s=60))
        await asyncio.sleep(HOLD_S / 4)
        assert _open_connections_to(proxy), "the meter had not connected yet"
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert _open_connections_to(proxy) == []


async def test_a_hub_whose_start_fails_half_way_closes_what_it_started(
    kafka: KafkaUnderTest, hub_settings: Settings, demo_config: HubConfig
) -> None:
    """The same kind, by failure instead of cancellation: a hub whose last consumer cannot
    start (Kafka refusing it) stops the producers and consumers started before it."""
    hub = build_hub(hub_settings, demo_config)
    assert len(hub.consumers) > 1

    async def refused() -> None:
        raise KafkaConnectionError("refused for the test")

    hub.consumers[-1].start = refused  # type: ignore[method-assign]
    before = {id(c) for c in _open_connections_to(kafka.bootstrap)}
    with pytest.raises(KafkaConnectionError):
        async with hub.app.router.lifespan_context(hub.app):
            pass
    left = [c for c in _open_connections_to(kafka.bootstrap) if id(c) not in before]
    assert left == []
