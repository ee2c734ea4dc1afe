"""The BRP change poller on a real broker against a real BRP Update API server: configured per
tenant, run by exactly one hub process at a time however many run, taken over when one stops,
and resumed after a restart from the checkpoint stored in Kafka: no gap, no repeat."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from connectors.brp_update.changes import DUTCH_TIME
from connectors.brp_update.config import WijzigingenConfig
from connectors.brp_update.source import CHANGED, WijzigingenSource
from hub.connector_host.checkpoints import CheckpointStore
from hub.connector_host.context import connector_context
from hub.connector_host.pollers import PollerGroup
from hub.connector_host.polling import PollingRunner
from hub.connector_host.publishing import contract_publisher
from hub.kafka.admin import ensure_topics
from hub.kafka.topics import TopicNames
from hub.observability.metrics import Metrics
from hub.runtime.settings import Settings
from tests.conftest import running_hub
from tests.fakes.brp_update import FakeBrpUpdate, running_brp_update
from tests.integration.helpers import hub_config, tenant_entry, until
from tests.kafka_reading import read_topics
from tests.kafka_under_test import KafkaUnderTest, free_port
from tests.samples import OTHER_VALID_BSN, VALID_BSN

pytestmark = pytest.mark.kafka

KEY_ENV = "KNOOPPUNT_TEST_BRP_UPDATE_KEY"
TENANTS = ["0363", "0599", "0518", "0344", "0014", "0153"]


@pytest.fixture
def brp_update(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBrpUpdate]:
    monkeypatch.setenv(KEY_ENV, "sleutel")
    with running_brp_update({"sleutel": "knooppunt"}) as fake:
        yield fake


def _source(fake: FakeBrpUpdate, start: date) -> dict[str, Any]:
    return {
        "name": "brp-wijzigingen",
        "connector": "brp-wijzigingen",
        "settings": {
            "url": fake.url,
            "auth": {"type": "header", "header": "X-API-KEY", "value_env": KEY_ENV},
            "settle_s": 0,
            "interval_s": 1,
            "start_date": str(start),
        },
    }


def _pollers(built: Any) -> PollerGroup:
    return next(c for c in built.consumers if isinstance(c, PollerGroup))


def _reports(records: list[Any]) -> list[tuple[str, str]]:
    return sorted(
        (dict(r.headers)["ce_tenant"].decode(), dict(r.headers)["ce_id"].decode()) for r in records
    )


async def test_each_tenants_poller_runs_in_one_process_and_moves_when_it_stops(
    kafka: KafkaUnderTest, prefix: str, hub_settings: Settings, brp_update: FakeBrpUpdate
) -> None:
    today = datetime.now(DUTCH_TIME).date()
    for bsn in (VALID_BSN, OTHER_VALID_BSN):
        brp_update.follow("knooppunt", bsn, today - timedelta(days=10))
    brp_update.change(VALID_BSN, today - timedelta(days=2))
    brp_update.change(OTHER_VALID_BSN, today - timedelta(days=1))
    tenants = []
    for tenant in TENANTS:
        entry = tenant_entry(tenant, {})
        entry["sources"] = [_source(brp_update, today - timedelta(days=3))]
        tenants.append(entry)
    config = hub_config(tenants, [])
    topic = TopicNames(prefix).contract(CHANGED)

    def settings() -> Settings:
        return hub_settings.model_copy(update={"roles": "api", "http_port": free_port()})

    async with running_hub(settings(), config) as (first, _http):
        async with running_hub(settings(), config) as (second, _http2):
            keys = {f"brp-wijzigingen:{t}" for t in TENANTS}
            both = (_pollers(first), _pollers(second))
            await until(lambda: set(both[0].polling()) | set(both[1].polling()) == keys)
            # each source in exactly one process
            assert not set(both[0].polling()) & set(both[1].polling())
            records = await read_topics(kafka.bootstrap, [topic], expect=12, settle_s=3)
            assert len(records) == 12  # 6 tenants x 2 persons, each once
            assert len(set(_reports(records))) == 12
        # the second stopped: the first polls every source now
        await until(lambda: set(_pollers(first).polling()) == keys, timeout_s=20)
        asked = len(brp_update.received())

    async with running_hub(settings(), config) as (restarted, _http):  # a restart
        await until(lambda: len(_pollers(restarted).polling()) == len(TENANTS))
        await asyncio.sleep(2.5)  # two intervals
    records = await read_topics(kafka.bootstrap, [topic], expect=12, settle_s=1)
    assert len(records) == 12  # no repeat
    # today is not over: the restarted pollers had nothing to ask
    assert len(brp_update.received()) == asked
    tenants_seen = {tenant for tenant, _id in _reports(records)}
    assert tenants_seen == set(TENANTS)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def test_days_missed_while_the_hub_was_down_are_reported_after_the_restart(
    kafka: KafkaUnderTest, prefix: str, hub_settings: Settings, brp_update: FakeBrpUpdate
) -> None:
    names = TopicNames(prefix)
    await ensure_topics(kafka.bootstrap, [names.contract(CHANGED)], partitions=3)
    start = date(2026, 3, 2)
    brp_update.today = start
    brp_update.follow("knooppunt", VALID_BSN, date(2026, 3, 1))
    brp_update.follow("knooppunt", OTHER_VALID_BSN, date(2026, 3, 1))
    config = hub_config([tenant_entry("0363", {})], [])
    settings = WijzigingenConfig.model_validate(
        {**_source(brp_update, start)["settings"], "start_date": None}  # from the clock's day
    )
    clock = Clock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    broker = KafkaBroker(kafka.bootstrap)
    await broker.connect()
    publish = contract_publisher(broker, names, config)
    context = connector_context(config.tenants[0], "brp", "brp-wijzigingen", Metrics())

    async def one_round() -> int:
        store = CheckpointStore(kafka.bootstrap, names)  # a process: checkpoints read from Kafka
        await store.start()
        try:
            source = WijzigingenSource(settings, context, clock)
            return await PollingRunner("brp", source, context, publish, store).poll_once()
        finally:
            await store.stop()

    try:
        brp_update.change(VALID_BSN, start)
        assert await one_round() == 0  # the 2nd is not over
        # down for three days; changes go on meanwhile
        brp_update.today = date(2026, 3, 5)
        brp_update.change(OTHER_VALID_BSN, date(2026, 3, 3))
        clock.now = datetime(2026, 3, 5, 9, tzinfo=UTC)
        assert await one_round() == 2  # the 2nd (A) and the 3rd (B); the 4th had none
        assert await one_round() == 0  # again the same day: nothing twice
    finally:
        await broker.stop()
    records = await read_topics(kafka.bootstrap, [names.contract(CHANGED)], expect=2)
    assert sorted(r.value.decode().count("gewijzigd_op") for r in records) == [1, 1]
    days = sorted((b'"2026-03-02"' in r.value, b'"2026-03-03"' in r.value) for r in records)
    assert days == [(False, True), (True, False)]


class SimulatedCrashError(Exception):
    """Stands in for the process being killed between two publishes."""


async def test_a_crash_in_a_long_round_repeats_at_most_the_reports_since_the_last_checkpoint(
    kafka: KafkaUnderTest, prefix: str, brp_update: FakeBrpUpdate
) -> None:
    # A new user killed the hub (SIGKILL) in a round of 2,999 reports: the whole round was
    # published again after the restart, and the router (a new process, its memory empty)
    # routed 182 of them twice. Now the round stores its checkpoint every 100 reports.
    names = TopicNames(prefix)
    await ensure_topics(kafka.bootstrap, [names.contract(CHANGED)], partitions=3)
    day = date(2026, 3, 2)
    brp_update.today = day + timedelta(days=1)
    persons = [f"2{n:07d}" for n in range(400)]
    persons = [p + str(_check(p)) for p in persons if _check(p) < 10][:250]
    for bsn in persons:
        brp_update.follow("knooppunt", bsn, day)
        brp_update.change(bsn, day)
    config = hub_config([tenant_entry("0363", {})], [])
    settings = WijzigingenConfig.model_validate(
        {**_source(brp_update, day)["settings"], "start_date": None}
    )
    clock = Clock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    broker = KafkaBroker(kafka.bootstrap)
    await broker.connect()
    publish = contract_publisher(broker, names, config)
    context = connector_context(config.tenants[0], "brp", "brp-wijzigingen", Metrics())
    sent: list[str] = []

    async def publish_then_crash(event: Any) -> Any:
        if len(sent) == 150:
            raise SimulatedCrashError
        sent.append(event.event_id)
        return await publish(event)

    async def one_round(publishing: Any) -> int:
        store = CheckpointStore(kafka.bootstrap, names)
        await store.start()
        try:
            source = WijzigingenSource(settings, context, clock)
            return await PollingRunner("brp", source, context, publishing, store).poll_once()
        finally:
            await store.stop()

    try:
        assert await one_round(publish) == 0  # starts on the 2nd, which is not over
        clock.now = datetime(2026, 3, 3, 12, tzinfo=UTC)
        with pytest.raises(SimulatedCrashError):
            await one_round(publish_then_crash)
        assert await one_round(publish) == 150  # resumed after the 100th report
    finally:
        await broker.stop()
    records = await read_topics(kafka.bootstrap, [names.contract(CHANGED)], expect=300)
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert len(set(ids)) == 250  # none lost
    assert len(ids) - len(set(ids)) == 50  # repeated: the 50 after the last checkpoint


def _check(eight: str) -> int:
    return sum(int(d) * w for d, w in zip(eight, range(9, 1, -1), strict=True)) % 11
