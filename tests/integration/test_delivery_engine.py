"""The delivery engine on a real broker: concurrency with order per key, a back office that
never answers delays nobody else, a circuit that opens and closes, retries that never call a
back office from a retry tier."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaProducer

from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.config import HubConfig
from hub.kafka.admin import ensure_topics
from hub.runtime.settings import Settings
from tests.conftest import running_hub
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.integration.helpers import metric_value, tenant_entry, until, wait_ready
from tests.integration.processes import hub_env, knooppunt
from tests.samples import submission

pytestmark = pytest.mark.kafka
SPEC = contract_for("nl.gemeente.formulier.ingediend", 1)


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


def _config(tenants: list[dict[str, Any]], **delivery: Any) -> HubConfig:
    return HubConfig.model_validate(
        {"tenants": tenants, "delivery": {"retry_delays": ["1s", "2s", "3s"], **delivery}}
    )


async def _produce(settings: Settings, tenant: str, destination: str, keys: list[str]) -> list[str]:
    """Events pre-routed onto a destination topic, in order, one per key given; their ids."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    ids = []
    try:
        topic = settings.topics.destination(tenant, destination)
        source = source_urn("0" * 20, "test")
        for key in keys:
            event, _ = build_event(SPEC, submission(), tenant=tenant, source=source)
            await producer.send(
                topic, event.data, key=f"{tenant}:{key}".encode(), headers=event.kafka_headers()
            )
            ids.append(event.id)
        await producer.flush()
    finally:
        await producer.stop()
    return ids


async def test_concurrent_deliveries_keep_order_per_key(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    backoffice.script("zaken", delay_s=0.005, jitter_s=0.05)  # answers in random order
    config = _config([tenant_entry("0363", {"zaken": backoffice.url("zaken")})], max_in_flight=8)
    keys = [f"zaak-{i % 12}" for i in range(240)]
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        ids = await _produce(hub_settings, "0363", "zaken", keys)
        await until(lambda: len(backoffice.accepted("zaken")) >= len(ids), 60)
    received = sorted(backoffice.accepted("zaken"), key=lambda r: r.arrived)
    assert sorted(r.body["id"] for r in received if r.body) == sorted(ids)  # each once
    key_of = dict(zip(ids, keys, strict=True))
    for key in set(keys):
        sent = [event_id for event_id in ids if key_of[event_id] == key]
        arrived = [r.body["id"] for r in received if r.body and key_of[r.body["id"]] == key]
        assert arrived == sent, f"{key}: delivered out of order"
    assert backoffice.max_concurrent("zaken") > 1, "no two deliveries ever ran at once"
    assert backoffice.max_concurrent("zaken") <= 8


async def test_a_back_office_that_never_answers_delays_nobody_else(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    """One destination hangs (connections accepted, no answer for 20 s: every attempt times out
    after 5 s); another destination of the same tenant and another tenant's destination,
    retries included, keep flowing."""
    backoffice.script("hangs", delay_s=20.0)
    backoffice.script("flaky", fail_first=3, fail_status=503)  # goes through the retry tiers
    config = _config(
        [
            tenant_entry("0363", {"hangs": backoffice.url("hangs"), "crm": backoffice.url("crm")}),
            tenant_entry("0599", {"flaky": backoffice.url("flaky")}),
        ]
    )
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        started = time.monotonic()
        await _produce(hub_settings, "0363", "hangs", [f"h{i}" for i in range(20)])
        crm = await _produce(hub_settings, "0363", "crm", [f"c{i}" for i in range(20)])
        flaky = await _produce(hub_settings, "0599", "flaky", [f"f{i}" for i in range(5)])
        await until(
            lambda: (
                len(backoffice.accepted("crm")) >= 20 and len(backoffice.accepted("flaky")) >= 5
            ),
            15,
        )
        took = time.monotonic() - started
        assert backoffice.accepted("hangs") == []  # still hanging all this time
    assert took < 19, "the others waited for the hanging back office"
    assert sorted(r.body["id"] for r in backoffice.accepted("crm") if r.body) == sorted(crm)
    assert sorted(r.body["id"] for r in backoffice.accepted("flaky") if r.body) == sorted(flaky)


async def test_an_open_circuit_stops_calls_and_closes_after_the_break(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    backoffice.script("zaken", fail_first=3, fail_status=503)
    config = _config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        max_in_flight=1,
        circuit_failures=3,
        circuit_break="3s",
    )
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        ids = await _produce(hub_settings, "0363", "zaken", [f"z{i}" for i in range(6)])
        await until(lambda: len(backoffice.received("zaken")) >= 3, 30)
        seen_open = False
        for _ in range(20):  # the breaker's state is visible while it is open
            [state] = (await http.get("/destinations")).json()
            if state["circuit"] == "open":
                exposition = (await http.get("/metrics")).text
                seen_open = True
                break
            await asyncio.sleep(0.1)
        await until(lambda: len(backoffice.accepted("zaken")) >= len(ids), 60)
        await asyncio.sleep(0.5)
        [after] = (await http.get("/destinations")).json()
    assert seen_open, "/destinations never showed the open circuit"
    assert (state["tenant"], state["destination"]) == ("0363", "zaken")
    labels = {"tenant": "0363", "destination": "zaken"}
    assert metric_value(exposition, "knooppunt_destination_circuit_state", **labels) == 2.0
    assert after["circuit"] == "closed"
    received = sorted(backoffice.received("zaken"), key=lambda r: r.arrived)
    assert [r.status for r in received[:3]] == [503, 503, 503]
    gap = received[3].arrived - received[2].at
    assert gap >= 2.5, f"called again {gap:.1f} s after the circuit opened (break 3 s)"
    assert sorted(r.body["id"] for r in backoffice.accepted("zaken") if r.body) == sorted(ids)


async def test_a_failed_probe_counts_as_a_held_attempt(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    """Found by a new user: while the circuit was open, its failing probes raised
    knooppunt_delivery_failures_total but not knooppunt_deliveries_total, so the failure-ratio
    alert saw no attempts at all while the back office was down."""
    backoffice.script("zaken", fail_first=5, fail_status=503)
    config = _config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        max_in_flight=1,
        circuit_failures=3,
        circuit_break="1s",
        retry_delays=["1h"],
    )
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        await _produce(hub_settings, "0363", "zaken", [f"z{i}" for i in range(4)])
        await until(lambda: len(backoffice.received("zaken")) >= 6, 30)  # 3 + 2 probes + 1
        await asyncio.sleep(0.5)
        exposition = (await http.get("/metrics")).text
    labels = {"tenant": "0363", "destination": "zaken"}
    assert metric_value(exposition, "knooppunt_deliveries_total", outcome="retry", **labels) == 3
    assert metric_value(exposition, "knooppunt_deliveries_total", outcome="held", **labels) == 2
    failures = metric_value(exposition, "knooppunt_delivery_failures_total", code="503", **labels)
    assert failures == 5


async def test_after_an_outage_the_backlog_flows_at_once_and_nobody_else_slowed(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    """Issue 12: a back office answers 503 for a while under a steady stream to three tenants
    (here 8 s, with a 1 s break; at full length 5 minutes): its backlog is delivered within
    seconds of its recovery, not after the longest retry tier it reached (60 s here), nothing is
    lost, and the other destinations were never slowed."""
    names = {"0363": "zaken", "0599": "zaken-0599", "0518": "zaken-0518"}
    config = _config(
        [tenant_entry(tenant, {"zaken": backoffice.url(name)}) for tenant, name in names.items()],
        retry_delays=["2s", "60s"],
        circuit_failures=3,
        circuit_break="1s",
    )
    outage_s = 8.0
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        backoffice.outage("zaken", outage_s)
        recovered_at = time.monotonic() + outage_s
        sent: dict[str, list[str]] = {"zaken": [], "zaken-0599": [], "zaken-0518": []}
        produced_at: dict[str, float] = {}
        for second in range(10):
            for tenant, name in (("0363", "zaken"), ("0599", "zaken-0599"), ("0518", "zaken-0518")):
                ids = await _produce(
                    hub_settings, tenant, "zaken", [f"{name}-{second}-{i}" for i in range(5)]
                )
                sent[name] += ids
                produced_at.update(dict.fromkeys(ids, time.monotonic()))
            await asyncio.sleep(1.0)
        await until(lambda: len(backoffice.accepted("zaken")) >= len(sent["zaken"]), 40)
        done_at = max(r.at for r in backoffice.accepted("zaken"))
    for name, ids in sent.items():
        delivered = {r.body["id"] for r in backoffice.accepted(name) if r.body}
        assert delivered == set(ids), f"{name}: not every event arrived"
    backlog_s = done_at - recovered_at
    print(
        f"\noutage of {outage_s:g} s: backlog of the failing back office delivered "
        f"{backlog_s:.1f} s after its recovery"
    )
    assert backlog_s < 10.0, f"the backlog took {backlog_s:.1f} s after the recovery (tier: 60 s)"
    for name in ("zaken-0599", "zaken-0518"):
        waits = [r.at - produced_at[r.body["id"]] for r in backoffice.accepted(name) if r.body]
        assert max(waits) < 5.0, f"{name} waited {max(waits):.1f} s during an 8 s outage elsewhere"


async def test_a_destination_failing_too_long_is_blocked_across_restarts_until_released(
    hub_settings: Settings, backoffice: FakeBackOffice, tmp_path: Path
) -> None:
    """OneGround's rule, with a week shortened to 3 s: a destination that delivered nothing for
    ``block_after`` is blocked (no more probes, its events wait in Kafka), stays blocked after a
    restart, and flows again once an operator runs ``knooppunt destinations release``."""
    backoffice.outage("zaken", 3600)
    raw = {
        "tenants": [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        "delivery": {
            "retry_delays": ["1s", "2s"],
            "circuit_failures": 1,
            "circuit_break": "1s",
            "block_after": "3s",
        },
    }
    config_file = tmp_path / "hub.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    config = HubConfig.model_validate(raw)

    async def state(http: Any) -> str:
        [destination] = (await http.get("/destinations")).json()
        return str(destination["circuit"])

    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        ids = await _produce(hub_settings, "0363", "zaken", ["a", "b", "c"])
        for _ in range(200):
            if await state(http) == "blocked":
                break
            await asyncio.sleep(0.1)
        assert await state(http) == "blocked"
        calls = len(backoffice.received("zaken"))
        await asyncio.sleep(3)  # three breaks long: no probe
        assert len(backoffice.received("zaken")) == calls
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        assert await state(http) == "blocked"  # read back from Kafka at start
        await asyncio.sleep(2)
        assert len(backoffice.received("zaken")) == calls
        backoffice.outage("zaken", 0)
        released = await asyncio.to_thread(
            knooppunt,
            hub_env(hub_settings),
            "destinations",
            "release",
            "--config",
            str(config_file),
            "--tenant",
            "0363",
            "--destination",
            "zaken",
        )
        assert released.returncode == 0, released.stderr
        assert released.stdout.startswith("released 0363 zaken (blocked since ")
        await until(lambda: len(backoffice.accepted("zaken")) >= len(ids), 60)
        assert await state(http) == "closed"
        again = await asyncio.to_thread(
            knooppunt,
            hub_env(hub_settings),
            *["destinations", "release", "-c", str(config_file), "-t", "0363", "-d", "zaken"],
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == "0363 zaken is not blocked: nothing to release"
    assert sorted(r.body["id"] for r in backoffice.accepted("zaken") if r.body) == sorted(ids)


def test_releasing_what_cannot_be_released_is_one_clear_line(
    hub_settings: Settings, tmp_path: Path
) -> None:
    """Wrong names, a destination the back office reads itself, Kafka not answering, a topic
    prefix that is not the hub's: one line each, nothing written."""
    config_file = tmp_path / "hub.yaml"
    config_file.write_text(
        yaml.safe_dump({"tenants": [tenant_entry("0363", {"archief": None, "zaken": "http://x"})]})
    )
    env = hub_env(hub_settings)
    args = ["destinations", "release", "--config", str(config_file), "--tenant", "0363"]
    unreachable = {**env, "KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    foreign = {**env, "KNOOPPUNT_TOPIC_PREFIX": "nowhere."}
    for environment, more, expected in [
        (env, ["-d", "nope"], "tenant 0363 has no destination 'nope' (known: archief, zaken)"),
        (env, ["-d", "zaken", "-t", "9999"], "no tenant '9999' (known: 0363)"),
        (env, ["-d", "archief"], "read from its topic by the back office"),
        (unreachable, ["-d", "zaken"], "Kafka at 127.0.0.1:1 does not answer"),
        (foreign, ["-d", "zaken"], "topic nowhere.knooppunt.destination-blocks does not exist"),
    ]:
        done = knooppunt(environment, *args, *more)
        assert done.returncode != 0, more
        assert expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def _most_at_once(received: list[Any]) -> int:
    moments = sorted([(r.arrived, 1) for r in received] + [(r.at, -1) for r in received])
    running = peak = 0
    for _, step in moments:
        running += step
        peak = max(peak, running)
    return peak


async def test_deliveries_at_once_are_capped_per_process_and_every_destination_gets_turns(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    """12 destinations x 8 in flight could be 96 deliveries at once; with max_in_flight_total
    6 there are never more than 6, and every destination is served while the others wait."""
    names = [f"d{i}" for i in range(12)]
    for name in names:
        backoffice.script(name, delay_s=0.03)
    config = _config(
        [tenant_entry("0363", {name: backoffice.url(name) for name in names})],
        max_in_flight=8,
        max_in_flight_total=6,
    )
    # Every destination's events are waiting before the hub starts: produced while it ran, the
    # last destination's came a second after the first's on a busy machine, and looked starved.
    topics = [hub_settings.topics.destination("0363", name) for name in names]
    await ensure_topics(
        hub_settings.kafka_bootstrap_servers,
        hub_settings.topics.all_for(config),
        hub_settings.topic_partitions,
        partitions_of=dict.fromkeys(topics, hub_settings.push_partitions),
    )
    for name in names:
        await _produce(hub_settings, "0363", name, [f"{name}-{i}" for i in range(10)])
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        await until(lambda: all(len(backoffice.accepted(n)) >= 10 for n in names), 60)
    received = [r for name in names for r in backoffice.accepted(name)]
    assert len(received) == 120
    assert 1 < _most_at_once(received) <= 6
    first_of = sorted(min(r.arrived for r in backoffice.accepted(n)) for n in names)
    last_first = first_of[-1] - min(r.arrived for r in received)
    total = max(r.at for r in received) - min(r.arrived for r in received)
    assert last_first < total / 2, "a destination waited until the others were done"
