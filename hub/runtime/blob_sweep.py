"""The blob sweep: removes attachment bytes nobody can still need (hub.blobs.retention says
which). Run by every process with the delivery role every ``blob_sweep_interval_s`` (two at
once only do the same work twice: a delete of a blob that is gone is fine), and on demand by
``knooppunt blobs sweep``.

What may still be delivered is read from Kafka itself: for each consumer group of the hub
(router, delivery, retry tiers), the records of its topics from the group's committed offset
(the start when it has none) to the end; and every record of every dead-letter topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from connectors.registry import sink_connector
from contracts.registry import CONTRACTS
from hub.blobs import BlobStoreUnavailableError
from hub.blobs.retention import named_blobs, removable
from hub.kafka.admin import partitions_of
from hub.kafka.clients import start_client
from hub.kafka.topics import QUARANTINE, UNKNOWN_TENANT
from hub.observability.logs import get_logger

if TYPE_CHECKING:
    from hub.blobs import BlobStore
    from hub.config import HubConfig
    from hub.kafka.topics import TopicNames

__all__ = ["SweepReport", "consumer_groups", "pending_names", "sweep_blobs"]

log = get_logger(__name__)


@dataclass(frozen=True)
class SweepReport:
    """``stored``: blobs in the store; ``expired``: older than the retention; ``removed``: the
    keys removed (or, on a dry run, that would be); the rest of the expired ones are kept for
    events that may still be delivered."""

    stored: int
    expired: int
    removed: list[str]


def consumer_groups(
    config: HubConfig, names: TopicNames, existing: set[str]
) -> dict[str, list[str]]:
    """Each consumer group of the hub and the topics it reads. Retry tiers are every tier
    topic on the cluster, not only the config's: events may wait in a tier an older config
    had (or the one the running hub has, when this config differs)."""
    tiers = {names.retry(delay) for delay in config.delivery.retry_delays}
    tiers |= {topic for topic in existing if topic.startswith(names.retry(""))}
    push = [
        names.destination(tenant.id, destination.name)
        for tenant in config.tenants
        for destination in tenant.destinations
        if (spec := sink_connector(destination.connector)) is not None and spec.pushes
    ]
    return {
        names.group("router"): sorted({names.contract(spec) for spec in CONTRACTS}),
        names.group("deliver"): push,
        names.group("retry"): sorted(tiers),
    }


def _dead_letter_topics(config: HubConfig, names: TopicNames) -> list[str]:
    tenants = [tenant.id for tenant in config.tenants] + [UNKNOWN_TENANT, QUARANTINE]
    return [names.dead_letter(tenant) for tenant in tenants]


async def pending_names(bootstrap: str, config: HubConfig, names: TopicNames) -> set[str]:
    """The SHA-256 digests named by every record that may still be delivered (module doc)."""
    starts: dict[TopicPartition, int | None] = {}  # None: from the start of the partition
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await start_client(admin)
    try:
        existing = set(await admin.list_topics())
        for group, topics in consumer_groups(config, names, existing).items():
            committed = await admin.list_consumer_group_offsets(group)
            for tp in await partitions_of(bootstrap, topics):
                mark = committed.get(tp)
                starts[tp] = mark.offset if mark is not None and mark.offset >= 0 else None
    finally:
        await admin.close()
    for tp in await partitions_of(bootstrap, _dead_letter_topics(config, names)):
        starts[tp] = None
    return await _names_in(bootstrap, starts)


async def _names_in(bootstrap: str, starts: dict[TopicPartition, int | None]) -> set[str]:
    """The digests named by the records from each partition's start (None: its first record)
    to its end as it is now."""
    found: set[str] = set()
    if not starts:
        return found
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await start_client(consumer)
    try:
        ends = await consumer.end_offsets(list(starts))
        firsts = await consumer.beginning_offsets(list(starts))
        begins = {tp: max(firsts[tp], start or 0) for tp, start in starts.items()}
        left = {tp: ends[tp] for tp, begin in begins.items() if begin < ends[tp]}
        consumer.assign(list(left))
        for tp in left:
            consumer.seek(tp, begins[tp])
        while left:
            batches = await consumer.getmany(*left, timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    found |= named_blobs(record.value)
            for tp in list(left):
                if await consumer.position(tp) >= left[tp]:
                    del left[tp]
    finally:
        await consumer.stop()
    return found


async def sweep_blobs(
    store: BlobStore,
    bootstrap: str,
    config: HubConfig,
    names: TopicNames,
    retention: timedelta,
    dry_run: bool = False,
) -> SweepReport:
    """Remove the blobs older than ``retention`` that no pending event names (``dry_run``: only
    say which). Kafka is read only when some blob is old enough."""
    before = datetime.now(UTC) - retention
    stored = [blob async for blob in store.stored()]
    expired = [blob for blob in stored if blob.stored_at < before]
    if not expired:
        return SweepReport(len(stored), 0, [])
    gone = removable(expired, await pending_names(bootstrap, config, names), before)
    if not dry_run:
        for done, key in enumerate(gone):
            try:
                await store.delete(key)
            except BlobStoreUnavailableError as exc:
                raise BlobStoreUnavailableError(
                    f"{exc} (removed {done} of {len(gone)} before that)"
                ) from exc
    return SweepReport(len(stored), len(expired), gone)
