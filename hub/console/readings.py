"""What the console shows, read from Kafka and the delivery engine: a tenant's dead letters with
their replays, the number of records on dead-letter topics, each destination's state and lag.
Read per request (an operator wants now, and a page is seconds apart); nothing is cached but
the lag, which the process's lag meter measures every KNOOPPUNT_LAG_INTERVAL_S."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer

from hub.delivery.dead_letters import not_replayed, read_dead_letters
from hub.delivery.replays import read_replays
from hub.errors import UsageError
from hub.kafka.admin import partitions_of
from hub.kafka.clients import start_client

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from hub.config import Tenant
    from hub.delivery.dead_letters import DeadLetterRecord, ReplayRecord
    from hub.delivery.engine import DestinationStatus
    from hub.kafka.topics import TopicNames
    from hub.observability.metrics import LagKey

__all__ = [
    "DestinationRow",
    "TenantLetters",
    "destination_lag",
    "destination_rows",
    "letter_counts",
    "tenant_letters",
]


@dataclass(frozen=True)
class TenantLetters:
    """A tenant's dead letters, oldest first, and the replays recorded for any letter."""

    letters: list[DeadLetterRecord]
    replays: dict[str, ReplayRecord]
    topic_exists: bool = True

    def waiting(self, destination: str | None = None) -> list[DeadLetterRecord]:
        """The letters not replayed yet (of one destination, when given)."""
        mine = [x for x in self.letters if destination is None or x.destination == destination]
        return not_replayed(mine, self.replays)

    def replay_of(self, letter: DeadLetterRecord) -> ReplayRecord | None:
        return self.replays.get(letter.name)


async def tenant_letters(bootstrap: str, names: TopicNames, tenant: str) -> TenantLetters:
    try:
        letters = await read_dead_letters(bootstrap, names.dead_letter(tenant))
    except UsageError:  # no dead-letter topic: the hub has not run with this tenant yet
        return TenantLetters([], {}, topic_exists=False)
    return TenantLetters(letters, await read_replays(bootstrap, names.dlq_replays()))


async def letter_counts(bootstrap: str, topics: Sequence[str]) -> dict[str, int]:
    """The records on each topic now (end minus start offsets: replayed letters included);
    cheap for hundreds of tenants, where reading every letter is not."""
    partitions = await partitions_of(bootstrap, topics)
    counts = dict.fromkeys(topics, 0)
    if not partitions:
        return counts
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await start_client(consumer)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    for tp in partitions:
        counts[tp.topic] += ends[tp] - starts[tp]
    return counts


@dataclass(frozen=True)
class DestinationRow:
    """One destination of a tenant as the console shows it."""

    name: str
    connector: str
    status: DestinationStatus | None  # None: not delivered by this process (or a topic)
    dead_letters: list[DeadLetterRecord] = field(default_factory=list)  # not replayed
    lag: int | None = None  # records on its topic not delivered yet; None: not measured here


def destination_lag(figures: Mapping[LagKey, int]) -> dict[tuple[str, str], int]:
    """Pure: ``(tenant, destination) -> records`` on each push destination's topic that the
    delivery engine has not handled yet, from the lag meter's figures
    (hub.runtime.consumer_lag: group, topic kind, tenant, destination)."""
    lag: dict[tuple[str, str], int] = defaultdict(int)
    for (_group, kind, tenant, destination), records in figures.items():
        if kind == "destination":
            lag[(tenant, destination)] += records
    return dict(lag)


def destination_rows(
    tenant: Tenant,
    statuses: Sequence[DestinationStatus],
    letters: TenantLetters | None = None,
    lag: Mapping[tuple[str, str], int] | None = None,
) -> list[DestinationRow]:
    """One row per destination of ``tenant``; ``lag`` as ``destination_lag`` gives it (None:
    this process measures none). A topic destination has no lag the hub can know: its back
    office reads it with a consumer group of its own."""
    by_name = {s.destination: s for s in statuses if s.tenant == tenant.id}
    return [
        DestinationRow(
            d.name,
            d.connector,
            by_name.get(d.name),
            letters.waiting(d.name) if letters is not None else [],
            None if lag is None or d.connector == "topic" else lag.get((tenant.id, d.name), 0),
        )
        for d in tenant.destinations
    ]
