"""Isolation across many tenants, and a crash in the middle of a stream: nothing lost."""

from __future__ import annotations

import asyncio
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.config import HubConfig
from hub.kafka.admin import ensure_topics
from hub.runtime.settings import Settings
from tests.conftest import running_hub
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.integration.helpers import form_route, tenant_entry, wait_ready
from tests.integration.processes import hub_process, wait_ready_process
from tests.kafka_reading import read_topics
from tests.kafka_under_test import free_port
from tests.samples import submission

pytestmark = pytest.mark.kafka
SPEC = contract_for("nl.gemeente.formulier.ingediend", 1)
CRASH_EVENTS = 5000
TWO_PROCESS_EVENTS = 3000


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


async def _produce(settings: Settings, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Publish (tenant, payload) pairs as contract events, as a source connector would."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        linger_ms=5,
        acks="all",
        enable_idempotence=True,
    )
    await producer.start()
    try:
        sends = []
        for tenant, payload in events:
            event, key = build_event(
                SPEC, payload, tenant=tenant, source=source_urn(f"0000000100{tenant}000000", "test")
            )
            sends.append(
                await producer.send(
                    settings.topics.contract(SPEC),
                    event.data,
                    key=key,
                    headers=event.kafka_headers(),
                )
            )
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def test_a_thousand_random_events_across_twenty_tenants_never_cross(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    tenants = [f"{1000 + 37 * i:04d}" for i in range(20)]
    config = HubConfig.model_validate(
        {
            "tenants": [
                tenant_entry(t, {"zaken": backoffice.url(f"zaken-{t}"), "archief": None})
                for t in tenants
            ],
            "routes": [
                form_route(t, form, ["zaken", "archief"]) for t in tenants for form in ("a", "b")
            ],
        }
    )
    rng = random.Random(20261129)
    events = [(rng.choice(tenants), submission(rng.choice(["a", "b", "c"]))) for _ in range(1000)]
    sent_by_tenant: dict[str, set[str]] = {t: set() for t in tenants}
    for tenant, payload in events:
        if payload["form"]["id"] != "c":
            sent_by_tenant[tenant].add(payload["submission_id"])
    routed = sum(len(ids) for ids in sent_by_tenant.values())
    names = hub_settings.topics
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        await _produce(hub_settings, events)
        archived = await read_topics(
            hub_settings.kafka_bootstrap_servers,
            [names.destination(t, "archief") for t in tenants],
            routed,
            timeout_s=60,
        )
        deadline = time.monotonic() + 60
        while sum(len(backoffice.accepted(f"zaken-{t}")) for t in tenants) < routed:
            assert time.monotonic() < deadline, "not every event was delivered"
            await asyncio.sleep(0.1)

    crossings = 0
    for record in archived:
        tenant = record.topic.rsplit(".", 2)[-2]
        submission_id = orjson.loads(record.value)["submission_id"]
        headers = dict(record.headers)
        crossings += headers["ce_tenant"].decode() != tenant
        crossings += not record.key.startswith(f"{tenant}:".encode())
        crossings += submission_id not in sent_by_tenant[tenant]
    for tenant in tenants:
        for request in backoffice.accepted(f"zaken-{tenant}"):
            assert request.body is not None
            crossings += request.body["tenant"] != tenant
            crossings += request.body["data"]["submission_id"] not in sent_by_tenant[tenant]
    assert len(archived) == routed
    assert crossings == 0


def test_a_killed_hub_loses_nothing(
    hub_settings: Settings, backoffice: FakeBackOffice, tmp_path: Path
) -> None:
    """SIGKILL in the middle of 5,000 events, then a restart: every event delivered."""
    config_file = tmp_path / "hub.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "tenants": [
                    tenant_entry("0363", {"zaken": backoffice.url("zaken"), "archief": None})
                ],
                "routes": [{"tenant": "0363", "contract": SPEC.type, "to": ["zaken", "archief"]}],
            }
        )
    )
    config = HubConfig.model_validate(yaml.safe_load(config_file.read_text()))
    asyncio.run(
        ensure_topics(
            hub_settings.kafka_bootstrap_servers,
            hub_settings.topics.all_for(config),
            hub_settings.topic_partitions,
        )
    )
    events = [
        ("0363", {**submission(), "submission_id": str(uuid.uuid4())}) for _ in range(CRASH_EVENTS)
    ]
    asyncio.run(_produce(hub_settings, events))

    with hub_process(hub_settings, config_file, tmp_path) as hub:
        wait_ready_process(hub_settings, hub)
        deadline = time.monotonic() + 120
        while len(backoffice.accepted("zaken")) < CRASH_EVENTS // 3:
            assert time.monotonic() < deadline, "the hub made no progress"
            time.sleep(0.1)
        hub.send_signal(signal.SIGKILL)  # mid-stream: no shutdown, no last commit
        assert hub.wait(10) == -signal.SIGKILL
    delivered_before_crash = len(backoffice.accepted("zaken"))

    with hub_process(hub_settings, config_file, tmp_path) as hub:
        wait_ready_process(hub_settings, hub)
        deadline = time.monotonic() + 180
        while len({r.idempotency_key for r in backoffice.accepted("zaken")}) < CRASH_EVENTS:
            assert time.monotonic() < deadline, "not every event was delivered after the restart"
            time.sleep(0.1)
        time.sleep(1.0)
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(60) == 0

    accepted = backoffice.accepted("zaken")
    per_key = Counter(r.idempotency_key for r in accepted)
    delivered_ids = {r.body["id"] for r in accepted if r.body is not None}
    duplicates = len(accepted) - len(per_key)
    print(
        f"\ncrash test: {CRASH_EVENTS} events, {delivered_before_crash} delivered before SIGKILL, "
        f"{len(accepted)} deliveries in all, {duplicates} duplicate deliveries "
        f"(same idempotency key), max {max(per_key.values())} per key"
    )
    assert len(per_key) == CRASH_EVENTS  # every event reached the back office
    assert len(delivered_ids) == CRASH_EVENTS  # one event id per key: duplicates are redeliveries
    archived = asyncio.run(
        read_topics(
            hub_settings.kafka_bootstrap_servers,
            [hub_settings.topics.destination("0363", "archief")],
            CRASH_EVENTS,
            settle_s=0.5,
        )
    )
    assert {dict(r.headers)["ce_id"] for r in archived} == {i.encode() for i in delivered_ids}


def _members(settings: Settings, group: str) -> int:
    async def count() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            [described] = await admin.describe_consumer_groups([group])
        finally:
            await admin.close()
        return len(described.groups[0][5]) if described.groups else 0

    return asyncio.run(count())


def test_two_delivery_processes_share_the_work_and_survive_a_sigkill(
    hub_settings: Settings, backoffice: FakeBackOffice, tmp_path: Path
) -> None:
    """Process roles (issue 12): one process routes and delivers, a second only delivers; both
    are members of the delivery group. SIGKILL the second mid-stream: after the rebalance the
    first delivers the rest; every event arrives, duplicates only as redeliveries of a key."""
    backoffice.script("zaken", delay_s=0.002)
    config_file = tmp_path / "hub.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "tenants": [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
                "routes": [{"tenant": "0363", "contract": SPEC.type, "to": ["zaken"]}],
            }
        )
    )
    events = [("0363", submission()) for _ in range(TWO_PROCESS_EVENTS)]
    shared = {"push_partitions": 3}  # one destination, shared by two processes
    first = hub_settings.model_copy(update={"roles": "router,delivery", **shared})
    second = hub_settings.model_copy(
        update={"roles": "delivery", "http_port": free_port(), **shared}
    )
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with hub_process(first, config_file, tmp_path / "first") as one:
        wait_ready_process(first, one)
        with hub_process(second, config_file, tmp_path / "second") as two:
            wait_ready_process(second, two)
            group = hub_settings.topics.group("deliver")
            deadline = time.monotonic() + 60
            while _members(hub_settings, group) < 2:
                assert time.monotonic() < deadline, "the second process never joined the group"
                time.sleep(0.5)
            asyncio.run(_produce(hub_settings, events))
            while len(backoffice.accepted("zaken")) < TWO_PROCESS_EVENTS // 3:
                assert time.monotonic() < deadline + 120, "no progress"
                time.sleep(0.1)
            two.send_signal(signal.SIGKILL)
            assert two.wait(10) == -signal.SIGKILL
        deadline = time.monotonic() + 180
        while len({r.idempotency_key for r in backoffice.accepted("zaken")}) < len(events):
            assert time.monotonic() < deadline, "not every event was delivered after the SIGKILL"
            time.sleep(0.2)
    accepted = backoffice.accepted("zaken")
    per_key = Counter(r.idempotency_key for r in accepted)
    print(
        f"\ntwo delivery processes: {len(events)} events, {len(accepted)} deliveries, "
        f"{len(accepted) - len(per_key)} redelivered after the SIGKILL"
    )
    assert len(per_key) == len(events)
    assert len({r.body["id"] for r in accepted if r.body}) == len(events)


def test_a_delivery_process_beyond_the_partitions_stands_by_ready(
    hub_settings: Settings, backoffice: FakeBackOffice, tmp_path: Path
) -> None:
    """One push destination, one partition (the default), two delivery processes: the second
    gets no partition, yet it has joined the group and is ready (it takes over on a rebalance);
    it never waits for partitions that do not exist."""
    config_file = tmp_path / "hub.yaml"
    config_file.write_text(
        yaml.safe_dump({"tenants": [tenant_entry("0363", {"zaken": backoffice.url("zaken")})]})
    )
    first = hub_settings.model_copy(update={"roles": "delivery"})
    second = hub_settings.model_copy(update={"roles": "delivery", "http_port": free_port()})
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with hub_process(first, config_file, tmp_path / "first") as one:
        wait_ready_process(first, one)
        with hub_process(second, config_file, tmp_path / "second") as two:
            wait_ready_process(second, two)
            assert _members(hub_settings, hub_settings.topics.group("deliver")) == 2
            time.sleep(2.0)  # the rebalance has settled: one of the two holds no partition
            for settings in (first, second):
                answer = httpx.get(f"http://127.0.0.1:{settings.http_port}/readyz", timeout=5)
                assert answer.status_code == 200, answer.text
            two.send_signal(signal.SIGTERM)
            assert two.wait(60) == 0
