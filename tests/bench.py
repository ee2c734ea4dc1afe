"""`make bench`: figures, not assertions. Router throughput on a real broker.

The router figure includes the hub's start (topic check, consumer group join, about 1 s).

Pre-loads N submissions onto the contract topic, then starts a hub and times how long its router
takes to put every copy on the destination topics (demo routes: a parking permit fans out to 2).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import orjson
from aiokafka import AIOKafkaProducer

from contracts.cloudevents import CloudEvent, source_urn
from contracts.events import event_key
from contracts.registry import contract_for
from hub.app import build_hub
from hub.config import load_config
from hub.kafka_admin import ensure_topics
from hub.settings import Settings
from tests.conftest import DEMO_CONFIG
from tests.kafka_reading import read_topics
from tests.kafka_under_test import free_port, kafka_for_session
from tests.samples import submission

EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
SPEC = contract_for("nl.gemeente.formulier.ingediend", 1)


async def _preload(settings: Settings, count: int) -> float:
    config = load_config(DEMO_CONFIG)
    await ensure_topics(
        settings.kafka_bootstrap_servers, settings.topics.all_for(config), settings.topic_partitions
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for _ in range(count):
            body = submission("parkeervergunning")
            event = CloudEvent(
                id=str(uuid.uuid4()),
                source=source_urn("00000001002564440000", "bench"),
                type=SPEC.type,
                tenant="0363",
                subject=body["submission_id"],
                data=orjson.dumps(body),
            )
            pending.append(
                await producer.send(
                    settings.topics.contract(SPEC),
                    event.data,
                    key=event_key("0363", body["submission_id"]),
                    headers=event.kafka_headers(),
                )
            )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def _route_all(settings: Settings, count: int) -> float:
    config = load_config(DEMO_CONFIG)
    built = build_hub(settings, config)
    parking = [settings.topics.destination("0363", "parkeren")]
    started = time.perf_counter()
    async with built.app.router.lifespan_context(built.app):
        await read_topics(settings.kafka_bootstrap_servers, parking, count, 600, settle_s=0)
        return time.perf_counter() - started


def main() -> None:
    with kafka_for_session() as kafka:
        settings = Settings(
            kafka_bootstrap_servers=kafka.bootstrap,
            topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
            http_port=free_port(),
        )
        produced = asyncio.run(_preload(settings, EVENTS))
        routed = asyncio.run(_route_all(settings, EVENTS))
    print(f"broker: {kafka.description}")
    print(f"{'what':<44}{'events':>8}{'seconds':>10}{'events/s':>10}")
    print(
        f"{'produce contract events (aiokafka, linger 5ms)':<44}{EVENTS:>8}{produced:>10.2f}"
        f"{EVENTS / produced:>10.0f}"
    )
    print(
        f"{'router: consume, validate, fan out x2, commit':<44}{EVENTS:>8}{routed:>10.2f}"
        f"{EVENTS / routed:>10.0f}"
    )


if __name__ == "__main__":
    main()
