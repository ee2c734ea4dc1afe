"""``make bench``: every scenario on one broker, then one table and one JSON file.

The broker is the one the test session would use (tests.kafka_under_test): a local Apache Kafka
started for this run unless ``KAFKA_BOOTSTRAP_SERVERS`` names one. One back office process serves
the scenarios that deliver. Before any scenario the broker is warmed once: a throwaway consumer
group commits an offset, so the broker's first-time set-up (creating __consumer_offsets, seconds on
a broker just started) is in no figure. A scenario that fails is reported as failed, and the
others still run. The JSON goes to ``.knooppunt/bench/latest.json`` and a copy named after the
time and commit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from benchmarks.backoffice import backoffice_process
from benchmarks.delivery import run_delivery
from benchmarks.http_clients import run_http_clients
from benchmarks.hubs import fresh_prefix
from benchmarks.intake import run_intake
from benchmarks.loadgen import find_load_generator
from benchmarks.measure import BenchOptions
from benchmarks.outage import run_outage
from benchmarks.processes import BENCH_DIR, REPO
from benchmarks.report import dumps, render
from benchmarks.router import run_router
from benchmarks.tenants import run_tenants
from hub.kafka.admin import ensure_topics
from hub.observability.logs import configure_logging
from tests.kafka_under_test import kafka_for_session

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["main"]


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _scenario(name: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"{name} ...", file=sys.stderr, flush=True)
    load, started = _load(), time.monotonic()
    try:
        result = run()
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        result = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    took = time.monotonic() - started
    print(f"{name} done in {took:.0f} s", file=sys.stderr, flush=True)
    return {**result, "took_s": took, "load_average_before": load, "load_average_after": _load()}


async def _warm_broker(bootstrap: str, timeout_s: float = 120.0) -> float:
    """Have the broker set up what a first consumer group needs (__consumer_offsets and its
    coordinator): a throwaway group commits an offset on a topic of its own, retried until the
    broker takes it. Seconds taken."""
    started = time.monotonic()
    topic = fresh_prefix("warm-up") + "offsets"
    await ensure_topics(bootstrap, [topic], partitions=1)
    partition = TopicPartition(topic, 0)
    # "GroupCoordinatorNotAvailable" while the broker sets up is what this waits out, not news.
    quiet = logging.getLogger("aiokafka.consumer.group_coordinator")
    quiet.setLevel(logging.CRITICAL)
    try:
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=topic, enable_auto_commit=False
            )
            consumer.assign([partition])
            try:
                await consumer.start()
                await consumer.commit({partition: 0})
                return time.monotonic() - started
            except KafkaError:
                if time.monotonic() - started > timeout_s:
                    raise
                await asyncio.sleep(0.5)
            finally:
                await consumer.stop()
    finally:
        quiet.setLevel(logging.NOTSET)


def main() -> None:
    options = BenchOptions.from_environment()
    # As `knooppunt run` does: JSON lines at INFO, so nothing per event. The bench's own producer
    # retries on topics it just created (leader elections) are not news: aiokafka at ERROR.
    configure_logging("INFO")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    generator = find_load_generator()
    started_at = datetime.now(UTC)
    commit = _git("rev-parse", "--short", "HEAD")
    results: dict[str, Any] = {
        "meta": {
            "started_at": started_at.isoformat(timespec="seconds"),
            "commit": commit,
            "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_start": _load(),
            "load_generator": generator.name,
            "options": dict(vars(options)),
        },
        "scenarios": {},
    }
    scenarios = results["scenarios"]
    with kafka_for_session() as kafka:
        results["meta"]["broker"] = kafka.description
        bootstrap = kafka.bootstrap
        print(f"broker: {kafka.description}", file=sys.stderr, flush=True)
        warm_s = asyncio.run(_warm_broker(bootstrap))
        results["meta"]["broker_warm_up_s"] = warm_s
        print(f"broker warmed (a first consumer group) in {warm_s:.1f} s", file=sys.stderr)
        with backoffice_process(options.backoffice_delay_ms) as backoffice:
            plan: dict[str, Callable[[], dict[str, Any]]] = {
                "router": lambda: run_router(bootstrap, options),
                "delivery": lambda: run_delivery(bootstrap, backoffice, options),
                "http": lambda: run_http_clients(backoffice, options),
                "intake": lambda: run_intake(bootstrap, generator, options),
                "tenants": lambda: run_tenants(bootstrap, backoffice, options),
                "outage": lambda: run_outage(bootstrap, backoffice, options),
            }
            for name, run in plan.items():
                if name in options.only:
                    scenarios[name] = _scenario(name, run)
    results["meta"]["took_s"] = (datetime.now(UTC) - started_at).total_seconds()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    latest = BENCH_DIR / "latest.json"
    latest.write_text(dumps(results))
    stamped = BENCH_DIR / f"{started_at:%Y%m%dT%H%M%SZ}-{commit}.json"
    stamped.write_text(dumps(results))
    print(render(results))
    print(f"figures as JSON: {latest.relative_to(REPO)} (and {stamped.relative_to(REPO)})")
