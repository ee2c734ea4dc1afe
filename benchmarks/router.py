"""Scenario ``router``: the hub's router next to a raw aiokafka pass-through, same events.

Each run gets its own topic prefix with ``BENCH_EVENTS`` e-forms submissions of tenant 0363
(form ``parkeervergunning``: the demo routes fan it out to 2 destinations) pre-loaded on the
contract topic. On that topic, one after the other:

- raw: ``benchmarks.passthrough`` in its own process copies every record to 2 topics;
- for information, the same loop on confluent-kafka (``benchmarks.passthrough_confluent``);
- router: ``knooppunt run --config deploy/demo/config.yaml`` routes them (its HTTP side idle).

The bench watches the output topics' end offsets every 50 ms; events/s is the number of copies
written between the first look that saw one and the look that saw the last, halved (fan-out x2),
over the time between those looks: process start and group joins are left out of all. Runs
alternate raw, raw confluent-kafka, router, raw... so a drift of the machine hits all alike.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

from benchmarks.hubs import DEMO_CONFIG, fresh_prefix
from benchmarks.kafka_io import SUBMITTED, preload, watch_topics
from benchmarks.measure import median, steady_rate
from benchmarks.processes import VENV_BIN, running
from hub.config import load_config
from hub.kafka.admin import ensure_topics
from hub.kafka.topics import TopicNames
from tests.kafka_under_test import free_port

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.measure import BenchOptions

__all__ = ["run_router"]

FAN_OUT = 2
PARTITIONS = 3  # the hub's default (KNOOPPUNT_TOPIC_PARTITIONS)


async def _events_per_s(
    bootstrap: str, argv: Sequence[str], outputs: list[str], count: int, name: str, prefix: str
) -> float:
    env = {
        "KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KNOOPPUNT_TOPIC_PREFIX": prefix,
        "KNOOPPUNT_LOG_LEVEL": "INFO",
    }
    watching = asyncio.create_task(watch_topics(bootstrap, outputs, count * FAN_OUT, 600))
    await asyncio.sleep(0.5)  # the watcher has read the offsets it counts from
    with running(argv, name, env=env) as child:
        while not watching.done():
            if child.process.poll() not in (None, 0):
                child.check_alive()  # raises with the tail of its log
            await asyncio.sleep(0.2)
        samples = await watching
    return steady_rate(samples) / FAN_OUT


async def _one_round(bootstrap: str, count: int, round_no: int) -> tuple[float, float, float]:
    prefix = fresh_prefix("router")
    names = TopicNames(prefix)
    config = load_config(DEMO_CONFIG)
    source = names.contract(SUBMITTED)
    raw_outputs = [f"{prefix}raw.copy-a", f"{prefix}raw.copy-b"]
    confluent_outputs = [f"{prefix}raw-confluent.copy-a", f"{prefix}raw-confluent.copy-b"]
    await ensure_topics(
        bootstrap, [*names.all_for(config), *raw_outputs, *confluent_outputs], PARTITIONS
    )
    took = await preload(bootstrap, [(source, "0363", "parkeervergunning")], count)
    print(f"  router round {round_no}: pre-loaded {count} events in {took:.1f} s", file=sys.stderr)
    raw_argv = [
        sys.executable,
        *("-m", "benchmarks.passthrough", "--bootstrap", bootstrap, "--source", source),
        *("--to", ",".join(raw_outputs), "--group", f"{prefix}raw", "--count", str(count)),
    ]
    raw = await _events_per_s(bootstrap, raw_argv, raw_outputs, count, "passthrough", prefix)
    confluent_argv = [
        sys.executable,
        *("-m", "benchmarks.passthrough_confluent", "--bootstrap", bootstrap, "--source", source),
        *("--to", ",".join(confluent_outputs), "--group", f"{prefix}raw-confluent"),
        *("--count", str(count)),
    ]
    confluent = await _events_per_s(
        bootstrap, confluent_argv, confluent_outputs, count, "passthrough-confluent", prefix
    )
    hub_argv = [str(VENV_BIN / "knooppunt"), "run", "--config", str(DEMO_CONFIG), "--port"]
    hub_argv.append(str(free_port()))
    routed = [names.destination("0363", "parkeren"), names.destination("0363", "archief")]
    router = await _events_per_s(bootstrap, hub_argv, routed, count, "router", prefix)
    print(
        f"  round {round_no}: raw {raw:,.0f} events/s, router {router:,.0f} "
        f"(raw confluent-kafka {confluent:,.0f})",
        file=sys.stderr,
    )
    return raw, router, confluent


def run_router(bootstrap: str, options: BenchOptions) -> dict[str, Any]:
    raw: list[float] = []
    router: list[float] = []
    confluent: list[float] = []
    for round_no in range(1, options.repeat + 1):
        one_raw, one_router, one_confluent = asyncio.run(
            _one_round(bootstrap, options.events, round_no)
        )
        raw.append(one_raw)
        router.append(one_router)
        confluent.append(one_confluent)
    raw_median, router_median = median(raw), median(router)
    return {
        "events": options.events,
        "fan_out": FAN_OUT,
        "runs": options.repeat,
        "raw_events_per_s": raw,
        "router_events_per_s": router,
        "raw_median": raw_median,
        "router_median": router_median,
        "ratio_router_raw": router_median / raw_median if raw_median else None,
        "raw_confluent_events_per_s": confluent,
        "raw_confluent_median": median(confluent),
    }
