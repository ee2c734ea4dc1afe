"""Consumer lag, measured on a timer and read by scrapes (``knooppunt_consumer_lag``).

A process measures the groups its roles run (router: the router's; delivery: the delivery
engine's and the retry tiers'), every ``lag_interval_s``: one OffsetFetch per group (what it
committed), one metadata request for the partitions of their topics, and one ListOffsets per
broker leading them (the end offsets), on clients kept open between measurements. A scrape
only reads the last figures (``ConsumerLagCollector``): it never waits on Kafka, and a slow or
absent Kafka leaves the figures as they were, with their time.

Lag is summed over partitions, and kept per tenant and destination only for destination
topics (a label set per destination, never per partition): a contract topic's records are of
every tenant, a retry tier's of every destination.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hub.kafka.clients import start_client
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text
from hub.runtime.blob_sweep import consumer_groups

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hub.config import HubConfig
    from hub.kafka.topics import TopicNames
    from hub.observability.metrics import LagKey

__all__ = ["LagMeter", "lag_by_place", "topic_place"]

log = get_logger(__name__)


def topic_place(topic: str, names: TopicNames) -> tuple[str, str, str]:
    """What a topic is, as the lag's labels say it: (kind, tenant, destination); kind is
    ``destination`` (with its tenant and destination), ``retry``, ``contract`` or ``other``."""
    deliver = names.destination("", "")[:-1]  # "<prefix>knooppunt.deliver."
    if topic.startswith(deliver):
        tenant, _, destination = topic[len(deliver) :].partition(".")
        return "destination", tenant, destination
    if topic.startswith(names.retry("")):
        return "retry", "", ""
    if topic.startswith(names.prefix) and not topic[len(names.prefix) :].startswith("knooppunt."):
        return "contract", "", ""
    return "other", "", ""


def lag_by_place(
    group: str,
    ends: Mapping[TopicPartition, int],
    committed: Mapping[TopicPartition, int],
    beginnings: Mapping[TopicPartition, int],
    names: TopicNames,
) -> dict[LagKey, int]:
    """Records not handled yet per (group, kind, tenant, destination): each partition's end
    offset minus the group's committed offset (a partition the group never committed counts
    from its first record, ``beginnings``), never below zero, summed."""
    summed: dict[LagKey, int] = defaultdict(int)
    for tp, end in ends.items():
        start = committed.get(tp, beginnings.get(tp, 0))
        kind, tenant, destination = topic_place(tp.topic, names)
        summed[(group, kind, tenant, destination)] += max(0, end - start)
    return dict(summed)


class LagMeter:
    """Measures ``groups`` (consumer group -> the topics it reads by the config; topics it
    committed are added) every ``interval_s`` while ``run`` runs; ``figures`` is what a scrape
    reads."""

    def __init__(self, bootstrap: str, groups: Mapping[str, list[str]], names: TopicNames) -> None:
        self.bootstrap, self.groups, self.names = bootstrap, dict(groups), names
        self.lag: dict[LagKey, int] = {}
        self.measured_at: float | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._failing = False

    @classmethod
    def for_roles(
        cls, bootstrap: str, config: HubConfig, names: TopicNames, roles: frozenset[str]
    ) -> LagMeter:
        """The groups a process with ``roles`` runs: router, deliver and retry."""
        every = consumer_groups(config, names, existing=set())
        wanted = {names.group("router")} if "router" in roles else set()
        if "delivery" in roles:
            wanted |= {names.group("deliver"), names.group("retry")}
        return cls(bootstrap, {g: t for g, t in every.items() if g in wanted}, names)

    def figures(self) -> tuple[dict[LagKey, int], float | None]:
        return self.lag, self.measured_at

    async def run(self, interval_s: float) -> None:
        """Measure now and every ``interval_s`` until cancelled; a failed measurement keeps the
        last figures and is logged once (``consumer_lag_unmeasured``) until one succeeds."""
        try:
            while True:
                try:
                    await self.measure()
                    self._failing = False
                except Exception as exc:  # Kafka away: the figures say when they were measured
                    await self._close()
                    if not self._failing:
                        log.warning(
                            "consumer_lag_unmeasured",
                            error_class=type(exc).__name__,
                            error=redact_text(str(exc)),
                        )
                    self._failing = True
                await asyncio.sleep(interval_s)
        finally:
            await self._close()

    async def measure(self) -> dict[LagKey, int]:
        """Measure every group once; the new figures replace the old ones whole."""
        admin, consumer = await self._clients()
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in self.groups:
            marks = await admin.list_consumer_group_offsets(group)
            committed[group] = {tp: m.offset for tp, m in marks.items() if m.offset >= 0}
        known = {
            group: set(topics) | {tp.topic for tp in committed[group]}
            for group, topics in self.groups.items()
        }
        topics = sorted(set().union(*known.values()))
        described = await admin.describe_topics(topics) if topics else []  # []: every topic
        numbers = {t["topic"]: [p["partition"] for p in t["partitions"]] for t in described}
        partitions = {
            group: {TopicPartition(t, p) for t in topics for p in numbers.get(t, ())}
            for group, topics in known.items()
        }
        every = set().union(*partitions.values()) if partitions else set()
        ends = await consumer.end_offsets(list(every)) if every else {}
        uncommitted = [
            tp for g, tps in partitions.items() for tp in tps if tp not in committed[g] and ends[tp]
        ]
        beginnings = await consumer.beginning_offsets(uncommitted) if uncommitted else {}
        figures: dict[LagKey, int] = {}
        for group, tps in partitions.items():
            group_ends = {tp: ends[tp] for tp in tps}
            figures.update(
                lag_by_place(group, group_ends, committed[group], beginnings, self.names)
            )
        self.lag, self.measured_at = figures, time.time()
        return figures

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                enable_auto_commit=False,
                client_id="knooppunt-lag",
                request_timeout_ms=10000,
                metadata_max_age_ms=30_000,  # topics made at runtime are counted within 30 s
            )
            self._admin, self._consumer = admin, consumer
            await start_client(admin)
            await start_client(consumer)
        return self._admin, self._consumer

    async def _close(self) -> None:
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()
