"""Runs every tenant's polling sources (config ``tenants[].sources``), each in exactly one hub
process at a time, however many processes have the ``api`` role.

Ownership is a Kafka consumer group: each (source, tenant) maps to one partition of the
``knooppunt.pollers`` topic (CRC-32 of its checkpoint key, modulo POLLER_PARTITIONS); the
process the group assigns that partition to polls it. The topic carries no records: it exists
for its partitions. When a process stops or dies, the group hands its partitions to the others
(within the session timeout). A process that loses a partition lets the round in hand finish,
its checkpoint stored, before the group goes on; the one that gains it reads the checkpoints
anew first, so it starts where the other stopped: no gap, no repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from connectors.registry import source_connector
from hub.connector_host.checkpoints import CheckpointStore, checkpoint_key
from hub.connector_host.context import connector_context
from hub.connector_host.polling import PollingRunner
from hub.errors import KnooppuntError
from hub.kafka.clients import start_client
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from connectors.sdk import ConnectionPool, ConnectorContext, PollingSource
    from connectors.sdk.source import Publish
    from hub.config import HubConfig, Tenant
    from hub.config.models import PolledSource
    from hub.kafka.topics import TopicNames
    from hub.observability.metrics import Metrics

__all__ = ["POLLER_PARTITIONS", "PollerGroup", "polled_sources"]

log = get_logger(__name__)
POLLER_PARTITIONS = 12  # at most this many processes share the polling; more stand by
SESSION_TIMEOUT_MS = 10_000  # a dead process's sources move on after at most this long


@dataclass(frozen=True)
class Polled:
    """One source of one tenant, and the partition that decides who polls it."""

    tenant: Tenant
    entry: PolledSource
    key: str
    partition: int


def polled_sources(config: HubConfig, partitions: int = POLLER_PARTITIONS) -> list[Polled]:
    """Every configured polling source, with its checkpoint key and partition."""
    found = []
    for tenant in config.tenants:
        for entry in tenant.sources:
            key = checkpoint_key(entry.name, tenant.id)
            found.append(Polled(tenant, entry, key, zlib.crc32(key.encode()) % partitions))
    return found


class _Ownership(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, group: PollerGroup) -> None:
        self.group = group

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.group.release({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.group.take({tp.partition for tp in assigned})


class PollerGroup:
    """A member of the pollers' consumer group: runs the sources of its partitions.

    ``start`` reads the checkpoints and joins; ``stop`` lets every round in hand finish (at most
    ``grace_s``), then leaves the group, so another process takes over at once.
    """

    def __init__(
        self,
        bootstrap: str,
        config: HubConfig,
        names: TopicNames,
        publish: Publish,
        metrics: Metrics,
        pool: ConnectionPool | None = None,
    ) -> None:
        self.bootstrap, self.publish, self.metrics, self.pool = bootstrap, publish, metrics, pool
        self.topic = names.pollers()
        self.group_id = names.group("pollers")
        self.store = CheckpointStore(bootstrap, names)
        self.sources = polled_sources(config)
        # Built now (no I/O): a source that cannot run (a secret not set) stops the start.
        self._built = {polled.key: self._build(polled) for polled in self.sources}
        self._runs: dict[str, tuple[asyncio.Event, asyncio.Task[None]]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._joined = False

    def joined(self) -> bool:
        """Whether this member has had its first assignment (it may be empty)."""
        return self._joined

    def polling(self) -> list[str]:
        """The checkpoint keys (``<source>:<tenant>``) this process polls now."""
        return sorted(self._runs)

    async def start(self) -> None:
        await self.store.start()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id="knooppunt-pollers",
            enable_auto_commit=False,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=SESSION_TIMEOUT_MS // 4,
            metadata_max_age_ms=5_000,
        )
        await start_client(self._consumer)
        self._consumer.subscribe([self.topic], listener=_Ownership(self))
        self._task = asyncio.create_task(self._run(), name="pollers")

    async def stop(self, grace_s: float = 15.0) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.release(set(range(POLLER_PARTITIONS))), grace_s)
        if self._consumer is not None:
            await self._consumer.stop()  # leaves the group: the others rebalance at once
        await self.store.stop()

    async def _run(self) -> None:
        """Keeps the membership alive: the group's callbacks run inside getmany."""
        assert self._consumer is not None
        while not self._stopping.is_set():
            try:
                await self._consumer.getmany(timeout_ms=1000)
            except KafkaError as exc:
                log.warning("pollers_fetch_failed", error=redact_text(str(exc)))
                await asyncio.sleep(1.0)

    async def take(self, partitions: set[int]) -> None:
        """Start polling the sources of ``partitions``, from the checkpoints as stored now."""
        self._joined = True
        mine = [s for s in self.sources if s.partition in partitions and s.key not in self._runs]
        if not mine:
            return
        await self.store.refresh([polled.key for polled in mine])
        for polled in mine:
            source, context = self._built[polled.key]
            runner = PollingRunner(polled.entry.name, source, context, self.publish, self.store)
            stop = asyncio.Event()
            task = asyncio.create_task(runner.run(stop), name=f"poll:{polled.key}")
            self._runs[polled.key] = (stop, task)
        log.info("sources_taken", sources=len(mine), polling=len(self._runs))

    async def release(self, partitions: set[int]) -> None:
        """Stop polling the sources of ``partitions``; returns once their rounds in hand have
        finished (their checkpoints stored)."""
        leaving = [s.key for s in self.sources if s.partition in partitions and s.key in self._runs]
        for key in leaving:
            self._runs[key][0].set()
        for key in leaving:
            _stop, task = self._runs.pop(key)
            with contextlib.suppress(Exception):
                await task
        if leaving:
            log.info("sources_released", sources=len(leaving), polling=len(self._runs))

    def _build(self, polled: Polled) -> tuple[PollingSource, ConnectorContext]:
        spec = source_connector(polled.entry.connector)
        if spec is None or spec.poll is None:  # the config check refuses it before
            raise KnooppuntError(f"{polled.entry.connector!r} is no polling source connector")
        context = connector_context(
            polled.tenant, polled.entry.name, polled.entry.connector, self.metrics, pool=self.pool
        )
        return spec.poll(spec.config.model_validate(polled.entry.settings), context), context
