"""The printed table and the JSON file, both from one ``results`` dict (docs/benchmarks.md)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render"]

MISSING = "-"


def _n(value: float | None, digits: int = 0) -> str:
    return MISSING if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}x"


def _failed(name: str, section: dict[str, Any]) -> list[str]:
    return [f"  {name}: FAILED - {section['error']}"]


def _router(r: dict[str, Any]) -> list[str]:
    def runs(key: str) -> str:
        return " / ".join(_n(v) for v in r[key])

    return [
        f"1. Router vs raw aiokafka pass-through ({r['events']:,} events pre-loaded, fan-out "
        f"x{r['fan_out']}, median of {r['runs']})",
        f"   {'':<46}{'events/s':>10}   runs",
        f"   {'raw aiokafka: consume, produce x2, batch commit':<46}"
        f"{_n(r['raw_median']):>10}   {runs('raw_events_per_s')}",
        f"   {'hub router (knooppunt run, demo routes)':<46}"
        f"{_n(r['router_median']):>10}   {runs('router_events_per_s')}",
        f"   {'ratio router/raw':<46}{_ratio(r['ratio_router_raw']):>10}",
        *(
            [
                f"   {'for information: raw confluent-kafka, same loop':<46}"
                f"{_n(r['raw_confluent_median']):>10}   {runs('raw_confluent_events_per_s')}"
            ]
            if r.get("raw_confluent_events_per_s")
            else []
        ),
    ]


def _cpu(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:.2f}"


def _delivery(d: dict[str, Any]) -> list[str]:
    lines = [
        f"2. Deliveries to one webhook back office (own process, answers in "
        f"{d['backoffice_delay_ms']:g} ms), {d['rows'][0]['deliveries']:,} events pre-loaded",
        f"   {'in flight per destination':<46}{'deliv./s':>10}{'CPU ms/del.':>12}"
        "   from hub start to last",
    ]
    lines += [
        f"   {row['in_flight']:<46}{_n(row['deliveries_per_s']):>10}"
        f"{_cpu(row.get('hub_cpu_ms_per_delivery')):>12}   "
        f"{row['seconds_from_hub_start']:.1f} s"
        for row in d["rows"]
    ]
    return [*lines, f"   note: {d['note']}"]


def _http(h: dict[str, Any]) -> list[str]:
    clients = h["clients"]
    lines = [
        f"3. HTTP client, {clients['httpx']['requests']:,} POSTs ({h['body_bytes']} B), "
        f"{h['in_flight']} in flight, same back office",
        f"   {'client':<46}{'req/s':>10}{'CPU ms/req':>12}",
    ]
    labels = {
        "httpx": "httpx.AsyncClient",
        "sdk": "connectors.sdk.HttpClient",
        "aiohttp": "aiohttp.ClientSession",
    }
    for name, label in labels.items():
        c = clients.get(name)
        if c is None:  # a JSON from before the SDK's client was measured
            continue
        lines.append(
            f"   {label + ' ' + h['versions'][name]:<46}{_n(c['requests_per_s']):>10}"
            f"{c['cpu_ms_per_request']:>12.2f}"
        )
    chosen = "sdk" if "sdk" in clients else "aiohttp"
    ratio = clients[chosen]["requests_per_s"] / clients["httpx"]["requests_per_s"]
    cpu = clients["httpx"]["cpu_ms_per_request"] / clients[chosen]["cpu_ms_per_request"]
    return [*lines, f"   {chosen + '/httpx':<46}{_ratio(ratio):>10}{'1/' + _ratio(cpu):>12}"]


def _intake(i: dict[str, Any]) -> list[str]:
    rates = [step for step in i["hub"] if step != "saturation"]
    head = f"   {'':<30}{'acked/s max':>12}"
    head += "".join(f"{'p50@' + r:>10}{'p99@' + r:>10}" for r in rates)
    cpu_known = "cpu_ms_per_ok" in i["minimal"]["saturation"]
    head += f"{'CPU ms/ack':>12}" if cpu_known else ""
    lines = [
        f"4. Intake: POST {i['path']}, load by {i['load_generator']}",
        f"   ({i['saturation_connections']} connections at saturation, "
        f"{i['seconds_per_step']:g} s per step; latencies in ms)",
        head,
    ]
    rows = (
        ("hub_api", "hub --role api"),
        ("hub", "hub, all roles"),
        ("minimal", "minimal FastAPI + aiokafka"),
    )
    shown = [(key, label) for key, label in rows if key in i]  # runs before hub_api had none
    for key, label in shown:
        steps = i[key]
        row = f"   {label:<30}{_n(steps['saturation']['ok_per_s']):>12}"
        row += "".join(f"{steps[r]['p50_ms']:>10.1f}{steps[r]['p99_ms']:>10.1f}" for r in rates)
        cpu = steps["saturation"].get("cpu_ms_per_ok")
        row += f"{cpu:>12.3f}" if cpu_known and cpu is not None else ""
        lines.append(row)
    ratio_label = "ratio hub api/minimal" if "hub_api" in i else "ratio hub/minimal"
    lines.append(f"   {ratio_label:<30}{_ratio(i['ratio_hub_minimal']):>12}")
    if "ratio_all_roles_minimal" in i:
        all_roles = _ratio(i["ratio_all_roles_minimal"])
        lines.append(f"   {'ratio hub all roles/minimal':<30}{all_roles:>12}")
    hub_cpu = i.get("hub_api", {}).get("saturation", {}).get("cpu_ms_per_ok")
    minimal_cpu = i["minimal"]["saturation"].get("cpu_ms_per_ok")
    if hub_cpu and minimal_cpu:  # what the ratio would be were both given the same CPU
        lines.append(f"   {'CPU per ack minimal/hub api':<30}{_ratio(minimal_cpu / hub_cpu):>12}")
    refused = {key: dict(i[key]["saturation"]["status_codes"]) for key, _ in shown}
    if any(not code.startswith("2") for codes in refused.values() for code in codes):
        lines.append(f"   status codes at saturation: {refused}")
    return lines


def _tenants(t: dict[str, Any]) -> list[str]:
    rows = t["rows"]
    lines = [
        f"5. Tenants x {t['destinations_per_tenant']} webhook destinations; time to deliver "
        f"{rows[0]['deliveries']:,} events",
        f"   {'':<59}{'-- deliver --':>20}",
        f"   {'tenants':>7}{'groups':>8}{'broker conns':>14}{'ready':>9}{'RSS MB':>9}"
        f"{'idle CPU':>10}{'direct':>10}{'routed':>10}{'ERROR lines':>13}",
    ]
    lines += [
        f"   {r['tenants']:>7}{r['consumer_groups']:>8}{r['broker_connections']:>14}"
        f"{r['ready_after_s']:>8.1f}s{r['rss_mb']:>9.0f}{_n(r['idle_cpu_percent'], 1):>9}%"
        f"{r['deliver_direct_s']:>9.1f}s{r['deliver_routed_s']:>9.1f}s"
        f"{r['error_lines_at_start']:>13}"
        for r in rows
    ]
    lines.append(
        f"   (idle CPU over {rows[0]['idle_seconds']:g} s, % of one core; RSS after it; ERROR "
        "lines logged before the deliveries; direct: events written onto the destination topics, "
        "routed: onto the contract topic, through the router)"
    )
    return lines


def _ms(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def _outage(o: dict[str, Any]) -> list[str]:
    destinations = o["destinations"]
    [failing] = [d for d in destinations if d["path"] == o["failing"]]
    backlog = failing["backlog_delivered_after_recovery_s"]
    lines = [
        f"6. Outage: {o['tenants']} tenants x 1 webhook destination, {o['rate_per_tenant']:g} "
        f"events/s each; /{o['failing']} answers 503 for {o['outage_s']:g} s "
        f"(after {o['warm_up_s']:g} s; stream {o['after_s']:g} s past recovery)",
        f"   policy: retry {', '.join(o['policy']['retry_delays'][:3])}, ...; circuit after "
        f"{o['policy']['circuit_failures']} failures, break {o['policy']['circuit_break']}",
        f"   backlog of /{o['failing']} delivered "
        f"{MISSING if backlog is None else f'{backlog:.1f} s'} after its recovery; "
        f"{failing['calls_during_outage']} calls to it during the outage",
        f"   {'destination':<20}{'written':>9}{'lost':>6}{'dupl.':>7}"
        + "".join(f"{'p50/p99/max ms ' + phase:>27}" for phase in ("before", "during", "after")),
    ]
    for d in destinations:
        row = f"   {d['path']:<20}{d['written']:>9,}{d['lost']:>6}{d['duplicates']:>7}"
        for phase in ("before", "during", "after"):
            lat = d["latency"][phase]
            cell = f"{_ms(lat['p50_ms'])}/{_ms(lat['p99_ms'])}/{_ms(lat['max_ms'])}"
            row += f"{cell:>27}"
        lines.append(row)
    lines.append(
        "   (latency: bench write -> back office accepted, by when the event was written; "
        f"lost: not delivered {o['drain_s']:g} s after the stream ended; "
        f"hub ERROR lines: {o['hub_error_lines']})"
    )
    return lines


_SECTIONS = {
    "router": _router,
    "delivery": _delivery,
    "http": _http,
    "intake": _intake,
    "tenants": _tenants,
    "outage": _outage,
}


def render(results: dict[str, Any]) -> str:
    """The side-by-side table of ``results`` (the dict written as JSON)."""
    meta = results["meta"]
    lines = [
        f"Knooppunt bench, {meta['started_at']}, commit {meta['commit']}"
        f"{' (with uncommitted changes)' if meta['dirty'] else ''}",
        f"machine: {meta['cpus']} CPUs, Python {meta['python']}, load average at start "
        f"{meta['load_average_start']}",
        f"broker: {meta['broker']}"
        + (
            f"; warmed in {meta['broker_warm_up_s']:.1f} s before any scenario"
            if "broker_warm_up_s" in meta
            else ""
        ),
        f"load generator: {meta['load_generator']}",
        "",
    ]
    for name, format_section in _SECTIONS.items():
        section = results["scenarios"].get(name)
        if section is None:
            continue
        lines += _failed(name, section) if "error" in section else format_section(section)
        lines.append("")
    return "\n".join(lines)


def dumps(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, sort_keys=False)
