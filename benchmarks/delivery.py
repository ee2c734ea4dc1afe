"""Scenario ``delivery``: deliveries/s from the hub to one fast webhook back office.

One tenant with one webhook destination pointing at the bench back office (its own process,
answering 201 after ``BENCH_BACKOFFICE_DELAY_MS``). ``BENCH_DELIVERIES`` events are pre-loaded
onto the destination topic (so the router is not part of the figure), then ``knooppunt run``
starts. Deliveries/s is what the back office counted between the first look that saw a request
and the look that saw the last (looks every 100 ms), over the time between them. Hub CPU per
delivery is the hub process's user + system CPU from ready to the last delivery, over the
deliveries: unlike the rate, it hardly moves with what else the machine runs.

Run with 1 and with 8 deliveries in flight per destination, where the hub's config takes a
``max_in_flight`` (on the destination, or in the webhook's settings). Where it takes none, the
hub's engine decides alone: the figure is measured once and shown on both rows, with a note.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any

from benchmarks.hubs import (
    form_for,
    fresh_prefix,
    hub_process,
    in_flight_setting,
    tenant_id,
    webhook_config,
    write_config,
)
from benchmarks.kafka_io import preload
from benchmarks.measure import steady_rate
from benchmarks.processes import cpu_seconds
from hub.config import HubConfig
from hub.kafka.admin import ensure_topics
from hub.kafka.topics import TopicNames

if TYPE_CHECKING:
    from benchmarks.backoffice import BackOffice
    from benchmarks.measure import BenchOptions

__all__ = ["IN_FLIGHT", "run_delivery"]

IN_FLIGHT = (1, 8)
PARTITIONS = 3


def _deliver(
    bootstrap: str, backoffice: BackOffice, options: BenchOptions, in_flight: int | None
) -> dict[str, Any]:
    prefix = fresh_prefix("delivery")
    raw = webhook_config(1, 1, backoffice, max_in_flight=in_flight)
    config = HubConfig.model_validate(raw)
    names = TopicNames(prefix)
    tenant = tenant_id(0)
    destination = config.tenants[0].destinations[0].name
    topic = names.destination(tenant, destination)
    asyncio.run(ensure_topics(bootstrap, names.all_for(config), PARTITIONS))
    asyncio.run(preload(bootstrap, [(topic, tenant, form_for(destination))], options.deliveries))
    path = write_config(f"delivery-{in_flight or 'engine'}", raw)
    base = backoffice.accepted()
    started = time.monotonic()
    with hub_process(f"delivery-{in_flight or 'engine'}", path, bootstrap, prefix) as hub:
        pid = hub.child.process.pid
        cpu = cpu_seconds(pid)
        samples = backoffice.wait_for(base + options.deliveries, options.deliver_timeout_s)
        cpu = cpu_seconds(pid) - cpu
    samples = [(t, n - base) for t, n in samples]
    return {
        "in_flight": in_flight,
        "deliveries": options.deliveries,
        "deliveries_per_s": steady_rate(samples),
        "seconds_from_hub_start": samples[-1][0] - started,
        "hub_cpu_ms_per_delivery": cpu * 1000 / options.deliveries,
    }


def run_delivery(bootstrap: str, backoffice: BackOffice, options: BenchOptions) -> dict[str, Any]:
    setting = in_flight_setting()
    rows: list[dict[str, Any]] = []
    if setting is None:
        measured = _deliver(bootstrap, backoffice, options, None)
        note = (
            "the hub's config has no max_in_flight: both rows are one run of its current engine "
            "(the webhook sink declares max_in_flight 8; the engine delivers 1 at a time per "
            "destination)"
        )
        rows = [{**measured, "in_flight": n, "configured": False} for n in IN_FLIGHT]
    else:
        note = f"max_in_flight set in the {setting} config"
        for n in IN_FLIGHT:
            rows.append({**_deliver(bootstrap, backoffice, options, n), "configured": True})
    for row in rows:
        print(
            f"  delivery, {row['in_flight']} in flight: {row['deliveries_per_s']:,.0f}/s",
            file=sys.stderr,
        )
    return {
        "backoffice_delay_ms": backoffice.delay_ms,
        "max_in_flight_setting": setting,
        "note": note,
        "rows": rows,
    }
