"""Scenario ``outage`` (opt-in, ``BENCH_ONLY=outage``): one back office down for minutes.

Issue 12: "after a 5-minute outage of one back office (503) under a steady stream to three
tenants, its backlog is delivered within 30 s of its recovery, nothing is lost, and the other
destinations never slowed". The full-length figure of what
tests/integration/test_delivery_engine.py checks with shortened timings.

``knooppunt run`` with 3 tenants of 1 webhook destination each (all at the bench back office) and
the config's default delivery policy (retry delays 10s, 1m, 5m, ...; circuit after 5 failures,
15 s break). The bench writes a steady stream onto the three destination topics,
``BENCH_OUTAGE_RATE`` events/s per tenant, for the whole run: ``WARM_UP_S`` of normal traffic,
then the first tenant's back office answers 503 for ``BENCH_OUTAGE_SECONDS``, then it recovers
and the stream goes on for ``AFTER_S``. The bench then waits up to ``DRAIN_S`` for every event
to be delivered. The back office records the Idempotency-Key and time of every accepted request
and the time of every refused one; the bench computes each event's key as the hub does
(hub.delivery.history.idempotency_key), so both sides' times are CLOCK_MONOTONIC of one machine.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaProducer

from benchmarks.hubs import fresh_prefix, hub_process, webhook_config, write_config
from benchmarks.kafka_io import submission_event
from hub.config import HubConfig
from hub.delivery.history import idempotency_key
from hub.kafka.topics import TopicNames

if TYPE_CHECKING:
    from benchmarks.backoffice import BackOffice
    from benchmarks.measure import BenchOptions

__all__ = ["run_outage"]

TENANTS = 3
WARM_UP_S = 15.0
AFTER_S = 60.0
DRAIN_S = 120.0
PHASES = ("before", "during", "after")


class _Stream:
    """The bench's writes: per destination path, each event's Idempotency-Key and write time."""

    def __init__(self) -> None:
        self.written: dict[str, dict[str, float]] = {}


async def _stream(
    bootstrap: str,
    targets: list[tuple[str, str, str, str]],
    rate: float,
    seconds: float,
    stream: _Stream,
) -> None:
    """Write one event per target ``rate`` times a second for ``seconds``; ``targets`` are
    (topic, tenant, destination, back office path)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        await producer.client.set_topics(sorted({t[0] for t in targets}))
        for _, _, _, path in targets:
            stream.written.setdefault(path, {})
        pending = []
        started = time.monotonic()
        tick = 0
        while True:
            due = started + tick / rate
            if due - started >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            for topic, tenant, destination, path in targets:
                key, event = submission_event(tenant)
                stream.written[path][idempotency_key(event, destination)] = time.monotonic()
                pending.append(
                    await producer.send(topic, event.data, key=key, headers=event.kafka_headers())
                )
            tick += 1
            if len(pending) >= 500:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def _latencies_ms(waits: list[float]) -> dict[str, Any]:
    if not waits:
        return {"events": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(waits)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {
        "events": len(ordered),
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * p99,
        "max_ms": 1000 * ordered[-1],
    }


def _all_delivered(backoffice: BackOffice, stream: _Stream) -> bool:
    for path, written in stream.written.items():
        accepted, _ = backoffice.log(path)
        if not set(written) <= {key for key, _ in accepted}:
            return False
    return True


def _destination(
    path: str,
    written: dict[str, float],
    log: tuple[list[tuple[str | None, float]], list[float]],
    window: tuple[float, float],
    failing: bool,
) -> dict[str, Any]:
    accepted, refused = log
    first: dict[str, float] = {}
    for key, at in accepted:
        if key is not None and key not in first:
            first[key] = at
    copies = Counter(key for key, _ in accepted)
    down, up = window
    phases: dict[str, list[float]] = {phase: [] for phase in PHASES}
    for key, wrote in written.items():
        if key in first:
            phase = "before" if wrote < down else "during" if wrote < up else "after"
            phases[phase].append(first[key] - wrote)
    backlog = [first[key] for key, wrote in written.items() if wrote < up and key in first]
    return {
        "path": path,
        "written": len(written),
        "delivered": sum(1 for key in written if key in first),
        "lost": sum(1 for key in written if key not in first),
        "duplicates": sum(n - 1 for n in copies.values() if n > 1),
        "calls_refused": len(refused),
        "calls_during_outage": sum(1 for at in refused if down <= at < up)
        + sum(1 for _, at in accepted if down <= at < up),
        "failing": failing,
        "backlog_delivered_after_recovery_s": max(backlog) - up if failing and backlog else None,
        "latency": {phase: _latencies_ms(waits) for phase, waits in phases.items()},
    }


def run_outage(bootstrap: str, backoffice: BackOffice, options: BenchOptions) -> dict[str, Any]:
    prefix = fresh_prefix("outage")
    raw = webhook_config(TENANTS, 1, backoffice)
    config = HubConfig.model_validate(raw)
    names = TopicNames(prefix)
    targets = [
        (
            names.destination(tenant.id, destination.name),
            tenant.id,
            destination.name,
            f"{tenant.id}-{destination.name}",
        )
        for tenant in config.tenants
        for destination in tenant.destinations
    ]
    failing = targets[0][3]
    for *_, path in targets:
        backoffice.control(path, status=201, watch=True)
    config_path = write_config("outage", raw)
    stream = _Stream()
    run_s = WARM_UP_S + options.outage_seconds + AFTER_S
    with hub_process("outage", config_path, bootstrap, prefix, options.ready_timeout_s) as hub:

        async def scenario() -> tuple[float, float]:
            writing = asyncio.create_task(
                _stream(bootstrap, targets, options.outage_rate, run_s, stream)
            )
            await asyncio.sleep(WARM_UP_S)
            down = await asyncio.to_thread(backoffice.control, failing, 503)
            print(f"  {failing} answers 503 for {options.outage_seconds:g} s", file=sys.stderr)
            await asyncio.sleep(options.outage_seconds)
            up = await asyncio.to_thread(backoffice.control, failing, 201)
            print(f"  {failing} recovered; stream for {AFTER_S:g} s more", file=sys.stderr)
            await writing
            return down, up

        down, up = asyncio.run(scenario())
        deadline = time.monotonic() + DRAIN_S
        while not _all_delivered(backoffice, stream) and time.monotonic() < deadline:
            hub.child.check_alive()
            time.sleep(1.0)
        destinations = [
            _destination(p, stream.written[p], backoffice.log(p), (down, up), p == failing)
            for *_, p in targets
        ]
        errors = sum(
            1
            for line in hub.child.log.read_text(errors="replace").splitlines()
            if '"level":"error"' in line
        )
    result = {
        "tenants": TENANTS,
        "rate_per_tenant": options.outage_rate,
        "warm_up_s": WARM_UP_S,
        "outage_s": options.outage_seconds,
        "after_s": AFTER_S,
        "drain_s": DRAIN_S,
        "failing": failing,
        "policy": config.delivery.model_dump(mode="json", exclude={"max_in_flight"}),
        "hub_error_lines": errors,
        "destinations": destinations,
    }
    for d in destinations:
        backlog = d["backlog_delivered_after_recovery_s"]
        print(
            f"  {d['path']}: {d['delivered']}/{d['written']} delivered, {d['duplicates']} "
            f"duplicates, {d['calls_during_outage']} calls during the outage"
            + (f", backlog delivered {backlog:.1f} s after recovery" if d["failing"] else ""),
            file=sys.stderr,
        )
    return result
