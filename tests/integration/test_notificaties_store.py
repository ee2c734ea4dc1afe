"""The kanalen and abonnementen stores on a real broker: a write is read back by the process
that made it at once, seen by another store on the same topic within a second, survives a
restart (a new store reads it from the topic), and a delete is a tombstone that stays deleted.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hub.kafka.topics import TopicNames
from hub.notificaties.compacted import Change
from hub.notificaties.domain import Abonnement, Kanaal, KanaalFilter
from hub.notificaties.store import AbonnementenStore, KanalenStore
from tests.kafka_under_test import KafkaUnderTest

pytestmark = pytest.mark.kafka


def _abonnement(tenant: str = "0363") -> Abonnement:
    return Abonnement(
        id=uuid.uuid4(),
        tenants=(tenant,),
        callback_url="http://127.0.0.1:9/callback",
        auth="Bearer abc",
        kanalen=(KanaalFilter("zaken", {"bronorganisatie": "*"}),),
        client="zaakafhandelcomponent",
    )


@asynccontextmanager
async def _started(store: AbonnementenStore | KanalenStore) -> AsyncIterator[None]:
    await store.start()
    try:
        yield
    finally:
        await store.stop()


async def _seen_within(condition: object, seconds: float) -> float:
    """How long until ``condition()`` held; fails after ``seconds``."""
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() - started < seconds, "not seen in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_write_is_read_back_at_once_and_seen_by_another_store_within_a_second(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    names = TopicNames(prefix)
    one, other = (
        AbonnementenStore(kafka.bootstrap, names),
        AbonnementenStore(kafka.bootstrap, names),
    )
    changes: list[Change[Abonnement]] = []
    async with _started(one), _started(other):
        other.watch(changes.append)
        abonnement = _abonnement()
        await one.put(abonnement)
        assert one.get(abonnement.id) == abonnement  # read your own write, no waiting
        await _seen_within(lambda: other.get(abonnement.id) == abonnement, 1.0)
        assert [(c.before, c.after, c.live) for c in changes] == [(None, abonnement, True)]
        assert other.for_tenant("0363") == [abonnement]
        assert other.for_tenant("0599") == []

        await other.delete(abonnement.id)
        assert other.get(abonnement.id) is None
        await _seen_within(lambda: one.get(abonnement.id) is None, 1.0)
        assert changes[-1].before == abonnement
        assert changes[-1].after is None


async def test_abonnementen_and_kanalen_survive_a_restart(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    names = TopicNames(prefix)
    kept, removed = _abonnement("0363"), _abonnement("0599")
    zaken = Kanaal("zaken", "https://example.org/zaken", ("bronorganisatie", "zaaktype"))
    first, kanalen = AbonnementenStore(kafka.bootstrap, names), KanalenStore(kafka.bootstrap, names)
    async with _started(first), _started(kanalen):
        await first.put(kept)
        await first.put(removed)
        await first.delete(removed.id)
        await kanalen.put(zaken)

    again, kanalen_again = (
        AbonnementenStore(kafka.bootstrap, names),
        KanalenStore(kafka.bootstrap, names),
    )
    async with _started(again), _started(kanalen_again):
        assert again.snapshot() == {kept.id: kept}
        assert kanalen_again.named("zaken") == zaken
        assert kanalen_again.by_id(zaken.id) == zaken


async def test_the_topics_are_compacted_with_one_partition_and_a_foreign_record_is_passed_over(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    names = TopicNames(prefix)
    store = AbonnementenStore(kafka.bootstrap, names)
    async with _started(store):
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
        await producer.start()
        try:  # not an abonnement: the store logs it and goes on
            await producer.send_and_wait(names.abonnementen(), b"{not json", key=b"x")
        finally:
            await producer.stop()
        abonnement = _abonnement()
        await store.put(abonnement)
        assert store.snapshot() == {abonnement.id: abonnement}

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([names.abonnementen()])
        (configs,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, names.abonnementen())]
        )
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == 1
    entries = configs.to_object()["resources"][0]["config_entries"]
    policy = next(e["config_value"] for e in entries if e["config_names"] == "cleanup.policy")
    assert policy == "compact"
