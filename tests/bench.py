"""`make bench`: figures, not assertions. Router throughput on a real broker.

Then the same through a webhook sink to a fake back office (a real HTTP server in this process).

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
from hub.config import HubConfig, load_config
from hub.kafka.admin import ensure_topics
from hub.runtime.assembly import build_hub
from hub.runtime.settings import Settings
from tests.conftest import DEMO_CONFIG
from tests.fakes.backoffice import running_backoffice
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
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        linger_ms=5,
        acks="all",
        enable_idempotence=True,
    )
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


async def _deliver_all(settings: Settings, count: int) -> float:
    """Time for a hub to push ``count`` pre-routed events to a webhook back office."""
    with running_backoffice() as backoffice:
        config = HubConfig.model_validate(
            {
                "tenants": [
                    {
                        "id": "0363",
                        "name": "Amsterdam",
                        "oin": "00000001002564440000",
                        "rsin": "002564440",
                        "destinations": [
                            {
                                "name": "zaken",
                                "connector": "webhook",
                                "settings": {"url": backoffice.url("zaken")},
                            }
                        ],
                    }
                ],
                "routes": [{"tenant": "0363", "contract": SPEC.type, "to": ["zaken"]}],
            }
        )
        built = build_hub(settings, config)
        started = time.perf_counter()
        async with built.app.router.lifespan_context(built.app):
            while len(backoffice.accepted("zaken")) < count:  # noqa: ASYNC110 - another thread
                await asyncio.sleep(0.05)
            return time.perf_counter() - started


def _row(what: str, seconds: float) -> str:
    return f"{what:<52}{EVENTS:>8}{seconds:>10.2f}{EVENTS / seconds:>10.0f}"


def main() -> None:
    with kafka_for_session() as kafka:
        settings = Settings(
            kafka_bootstrap_servers=kafka.bootstrap,
            topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
            http_port=free_port(),
        )
        produced = asyncio.run(_preload(settings, EVENTS))
        routed = asyncio.run(_route_all(settings, EVENTS))
        delivery = settings.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:6]}."})
        asyncio.run(_preload(delivery, EVENTS))
        delivered = asyncio.run(_deliver_all(delivery, EVENTS))
    print(f"broker: {kafka.description}")
    print(f"{'what':<52}{'events':>8}{'seconds':>10}{'events/s':>10}")
    print(_row("produce contract events (aiokafka, linger 5ms)", produced))
    print(_row("router: consume, validate, fan out x2, commit", routed))
    print(_row("route + deliver to one webhook back office (HTTP)", delivered))
    print("(hub figures include its start: topic check and consumer group joins, about 1 s)")


if __name__ == "__main__":
    main()
