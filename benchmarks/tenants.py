"""Scenario ``tenants``: what the hub costs per tenant, at 1, 34 and 340 tenants.

For each count in ``BENCH_TENANTS``: a generated config of that many tenants with 3 webhook
destinations each (all pointing at the bench back office; the demo client, with the demo secret
file, bound to every tenant), and ``knooppunt run`` started on fresh topics. Measured, in order:

- ready after: seconds from the process start until ``/readyz`` answers 200;
- RSS (``VmRSS`` of /proc/<pid>/status) and the broker connections the hub holds (its
  ESTABLISHED TCP connections to the broker's port, /proc/<pid>/net/tcp matched by socket inode),
  a second after ready; the hub's consumer groups as the broker lists them;
- idle CPU: utime + stime (/proc/<pid>/stat) over ``BENCH_IDLE_SECONDS`` of no traffic, as a
  share of one core;
- RSS again after the idle period, and the ERROR lines the hub logged until then;
- deliveries, twice, each timed from the bench's first write until the back office counted the
  last delivery: *direct*, ``BENCH_DELIVERIES`` events written onto the destination topics, round
  robin over every destination of every tenant (delivery alone); then *routed*, as many events
  written onto the contract topic, round robin over every tenant and destination (each event's
  form id routes it to exactly one destination), so the router's producer writes to every
  destination topic too (its metadata for 3 x tenants topics is part of the figure).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any

from aiokafka.admin import AIOKafkaAdminClient

from benchmarks.hubs import form_for, fresh_prefix, hub_process, webhook_config, write_config
from benchmarks.kafka_io import SUBMITTED, preload
from benchmarks.processes import cpu_seconds, established_to, rss_bytes
from hub.config import HubConfig
from hub.kafka.topics import TopicNames

if TYPE_CHECKING:
    from benchmarks.backoffice import BackOffice
    from benchmarks.measure import BenchOptions

__all__ = ["run_tenants"]

DESTINATIONS = 3
MB = 1024 * 1024
SETTLE_S = 1.0


async def _consumer_groups(bootstrap: str, prefix: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        groups = await admin.list_consumer_groups()
    finally:
        await admin.close()
    return sum(1 for group in groups if str(group[0]).startswith(prefix))


def _error_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if '"level":"error"' in line)


def _one(
    bootstrap: str, broker_port: int, backoffice: BackOffice, tenants: int, options: BenchOptions
) -> dict[str, Any]:
    prefix = fresh_prefix(f"tenants{tenants}")
    raw = webhook_config(tenants, DESTINATIONS, backoffice)
    config = HubConfig.model_validate(raw)
    names = TopicNames(prefix)
    direct = [
        (names.destination(tenant.id, destination.name), tenant.id, form_for(destination.name))
        for tenant in config.tenants
        for destination in tenant.destinations
    ]
    routed = [(names.contract(SUBMITTED), tenant, form) for _, tenant, form in direct]
    path = write_config(f"tenants-{tenants}", raw)
    row: dict[str, Any] = {"tenants": tenants, "destinations": len(direct)}
    with hub_process(f"tenants-{tenants}", path, bootstrap, prefix, options.ready_timeout_s) as hub:
        pid = hub.child.pid
        row["ready_after_s"] = hub.ready_after_s
        time.sleep(SETTLE_S)  # the connection of the last /readyz check is closed
        row["rss_ready_mb"] = rss_bytes(pid) / MB
        row["broker_connections"] = established_to(pid, broker_port)
        row["consumer_groups"] = asyncio.run(_consumer_groups(bootstrap, prefix))
        cpu, wall = cpu_seconds(pid), time.monotonic()
        time.sleep(options.idle_seconds)
        row["idle_cpu_percent"] = (
            100 * (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
            if options.idle_seconds
            else None
        )
        row["idle_seconds"] = options.idle_seconds
        row["rss_mb"] = rss_bytes(pid) / MB
        row["broker_connections_after_idle"] = established_to(pid, broker_port)
        row["error_lines_at_start"] = _error_lines(hub.child.log.read_text(errors="replace"))
        row["deliveries"] = options.deliveries
        for way, targets in (("direct", direct), ("routed", routed)):
            base = backoffice.accepted()
            started = time.monotonic()
            asyncio.run(preload(bootstrap, targets, options.deliveries))
            samples = backoffice.wait_for(base + options.deliveries, options.deliver_timeout_s)
            row[f"deliver_{way}_s"] = samples[-1][0] - started
        row["rss_peak_mb"] = rss_bytes(pid, "VmHWM") / MB
    print(
        f"  tenants {tenants}: ready {row['ready_after_s']:.1f} s, RSS {row['rss_mb']:.0f} MB, "
        f"{row['broker_connections']} broker connections, idle CPU "
        f"{row['idle_cpu_percent'] or 0:.1f}%, {row['deliveries']} deliveries in "
        f"{row['deliver_direct_s']:.1f} s direct, {row['deliver_routed_s']:.1f} s routed",
        file=sys.stderr,
    )
    return row


def run_tenants(bootstrap: str, backoffice: BackOffice, options: BenchOptions) -> dict[str, Any]:
    broker_port = int(bootstrap.split(",", maxsplit=1)[0].rsplit(":", 1)[1])
    rows = [_one(bootstrap, broker_port, backoffice, n, options) for n in options.tenants]
    return {
        "destinations_per_tenant": DESTINATIONS,
        "events_loaded": "written by the bench onto the destination topics (direct), then onto "
        "the contract topic (routed), round robin over every destination of every tenant",
        "rows": rows,
    }
