"""Blob retention on a real broker: a blob older than the retention is removed only once no
event that may still be delivered names it (not yet routed, not yet delivered, a dead letter);
a young blob is kept whatever; a dry run removes nothing; ``knooppunt blobs sweep`` says it."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from contracts.registry import contract_for
from hub.blobs import BlobStoreUnavailableError, FolderBlobStore
from hub.kafka.admin import ensure_topics
from hub.kafka.topics import TopicNames
from hub.runtime.blob_sweep import sweep_blobs
from hub.runtime.settings import Settings
from tests.integration.helpers import hub_config, tenant_entry
from tests.integration.processes import hub_env, knooppunt
from tests.kafka_reading import produce_raw
from tests.kafka_under_test import KafkaUnderTest

pytestmark = pytest.mark.kafka

RETENTION = timedelta(days=30)
OLD = time.time() - 40 * 86400


def _record(sha256: str) -> bytes:
    attachment = {"url": f"https://hub.example/api/v1/tenants/0363/attachments/{sha256}"}
    return orjson.dumps({"attachments": [{**attachment, "sha256": sha256}]})


async def test_an_old_blob_goes_once_no_pending_event_names_it(
    kafka: KafkaUnderTest, prefix: str, tmp_path: Path, hub_settings: Settings
) -> None:
    names = TopicNames(prefix)
    config = hub_config(
        [tenant_entry("0363", {"zaken": "http://127.0.0.1:9/in", "archief": None})], []
    )
    await ensure_topics(kafka.bootstrap, names.all_for(config), partitions=1)
    store = FolderBlobStore(tmp_path / "blobs")
    blobs = {
        name: await store.put_bytes("0363", name.encode(), "text/plain", max_bytes=100)
        for name in (
            "delivered",
            "waiting",
            "dead-letter",
            "unrouted",
            "unnamed",
            "young",
            "old-tier",
        )
    }
    for name, blob in blobs.items():
        if name != "young":
            os.utime(store.root / "0363" / blob.sha256, (OLD, OLD))
    push = names.destination("0363", "zaken")
    await produce_raw(kafka.bootstrap, push, _record(blobs["delivered"].sha256))
    await produce_raw(kafka.bootstrap, push, _record(blobs["waiting"].sha256))
    await produce_raw(kafka.bootstrap, push, _record(blobs["young"].sha256))
    await _commit(kafka.bootstrap, names.group("deliver"), TopicPartition(push, 0), 1)
    await produce_raw(
        kafka.bootstrap, names.dead_letter("0363"), _record(blobs["dead-letter"].sha256)
    )
    contract = names.contract(contract_for("nl.gemeente.formulier.ingediend", 2))
    await produce_raw(kafka.bootstrap, contract, _record(blobs["unrouted"].sha256))
    # waiting in a retry tier this config does not have (an older config's, or the running
    # hub's when the sweep is given another file): was removed
    old_tier = names.retry("7m")
    await ensure_topics(kafka.bootstrap, [old_tier], partitions=1)
    await produce_raw(kafka.bootstrap, old_tier, _record(blobs["old-tier"].sha256))
    # a back office reading its own topic: retention by time only (its reads are not known)
    await produce_raw(
        kafka.bootstrap, names.destination("0363", "archief"), _record(blobs["unnamed"].sha256)
    )

    dry = await sweep_blobs(store, kafka.bootstrap, config, names, RETENTION, dry_run=True)
    assert dry.removed == sorted([blobs["delivered"].key, blobs["unnamed"].key])
    assert len([b async for b in store.stored()]) == 7  # a dry run removes nothing

    report = await sweep_blobs(store, kafka.bootstrap, config, names, RETENTION)

    assert (report.stored, report.expired) == (7, 6)
    assert report.removed == dry.removed
    left = sorted([b.key async for b in store.stored()])
    kept = ("waiting", "dead-letter", "unrouted", "young", "old-tier")
    assert left == sorted(blobs[name].key for name in kept)

    env = {
        **hub_env(hub_settings),
        "KNOOPPUNT_BLOB_STORE": str(store.root),
        "KNOOPPUNT_CONFIG": str(_write_config(tmp_path, config)),
    }
    result = knooppunt(env, "blobs", "sweep", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "5 blob(s) stored, 4 older than 30 days; would remove 0, kept 4 that pending events name"
    )


class FailingSecondDelete(FolderBlobStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.deletes = 0

    async def delete(self, key: str) -> None:
        self.deletes += 1
        if self.deletes == 2:
            raise BlobStoreUnavailableError(f"the blob folder {self.root} cannot be used: EPERM")
        await super().delete(key)


async def test_a_sweep_that_fails_half_way_says_how_many_it_removed(
    kafka: KafkaUnderTest, prefix: str, tmp_path: Path
) -> None:
    # Was: "nothing removed" although the first blob was gone.
    names = TopicNames(prefix)
    config = hub_config([tenant_entry("0363", {})], [])
    await ensure_topics(kafka.bootstrap, names.all_for(config), partitions=1)
    store = FailingSecondDelete(tmp_path / "blobs")
    for content in (b"een", b"twee", b"drie"):
        blob = await store.put_bytes("0363", content, "text/plain", max_bytes=100)
        os.utime(store.root / "0363" / blob.sha256, (OLD, OLD))
    with pytest.raises(BlobStoreUnavailableError, match=r"EPERM \(removed 1 of 3 before that\)"):
        await sweep_blobs(store, kafka.bootstrap, config, names, RETENTION)


async def _commit(bootstrap: str, group: str, partition: TopicPartition, offset: int) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([partition])
        await consumer.commit({partition: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()


def _write_config(tmp_path: Path, config: object) -> Path:
    path = tmp_path / "hub.yaml"
    dumped = config.model_dump(mode="json", exclude={"source"})  # type: ignore[attr-defined]
    path.write_text(orjson.dumps(dumped).decode())  # JSON is YAML
    return path
