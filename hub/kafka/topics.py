"""Topic and consumer-group names. Names never carry personal data.

An optional prefix (``KNOOPPUNT_TOPIC_PREFIX``, e.g. ``acc.``) lets several installations, or test
runs, share one Kafka cluster without seeing each other's topics or consumer groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts.registry import CONTRACTS

if TYPE_CHECKING:
    from contracts.registry import ContractSpec
    from hub.config import HubConfig

__all__ = ["QUARANTINE", "UNKNOWN_TENANT", "TopicNames"]

UNKNOWN_TENANT = "unknown"  # dead letters of events that name no configured tenant
QUARANTINE = "quarantine"  # events found on another tenant's topic: for operators only
_PREFIX = re.compile(r"^([a-z0-9][a-z0-9-]*\.)?$")


@dataclass(frozen=True)
class TopicNames:
    """Every topic and group name the hub uses, under one optional prefix."""

    prefix: str = ""

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"topic prefix {self.prefix!r}: lowercase, ending in a dot ('acc.')")

    def contract(self, spec: ContractSpec) -> str:
        """Contract topic: ``<type>.v<major>``."""
        return f"{self.prefix}{spec.type}.v{spec.version}"

    def destination(self, tenant: str, destination: str) -> str:
        return f"{self.prefix}knooppunt.deliver.{tenant}.{destination}"

    def dead_letter(self, tenant: str) -> str:
        return f"{self.prefix}knooppunt.dlq.{tenant}"

    def retry(self, delay: str) -> str:
        """A retry tier, shared by all destinations (the target travels in headers)."""
        return f"{self.prefix}knooppunt.retry.{delay}"

    def destination_blocks(self) -> str:
        """Blocked and released push destinations (hub.delivery.blocks), compacted."""
        return f"{self.prefix}knooppunt.destination-blocks"

    def destination_status(self) -> str:
        """Each delivery process's destinations, for the console (hub.runtime.destination_board),
        compacted."""
        return f"{self.prefix}knooppunt.destination-status"

    def dlq_replays(self) -> str:
        """Which dead letters were replayed, when and by whom (hub.delivery.replays), compacted."""
        return f"{self.prefix}knooppunt.dlq-replays"

    def checkpoints(self) -> str:
        """Polling sources' checkpoints (hub.connector_host.checkpoints), compacted."""
        return f"{self.prefix}knooppunt.checkpoints"

    def kanalen(self) -> str:
        """The Notificaties API's kanalen (hub.notificaties.store), compacted."""
        return f"{self.prefix}knooppunt.kanalen"

    def abonnementen(self) -> str:
        """The Notificaties API's abonnementen (hub.notificaties.store), compacted."""
        return f"{self.prefix}knooppunt.abonnementen"

    def pollers(self) -> str:
        """Partitions only, no records: who polls which source (hub.connector_host.pollers)."""
        return f"{self.prefix}knooppunt.pollers"

    def group(self, role: str) -> str:
        return f"{self.prefix}knooppunt-{role}"

    def hub_written(self, config: HubConfig) -> list[str]:
        """The topics only the hub writes (destinations, dead letters, retry tiers)."""
        contract_topics = {self.contract(spec) for spec in CONTRACTS}
        return [topic for topic in self.all_for(config) if topic not in contract_topics]

    def all_for(self, config: HubConfig) -> list[str]:
        """Every topic the hub reads or writes for this config, in a stable order."""
        topics = [self.contract(spec) for spec in CONTRACTS]
        for tenant in config.tenants:
            topics.extend(self.destination(tenant.id, d.name) for d in tenant.destinations)
            topics.append(self.dead_letter(tenant.id))
        topics.append(self.dead_letter(UNKNOWN_TENANT))
        topics.append(self.dead_letter(QUARANTINE))
        topics.extend(self.retry(delay) for delay in config.delivery.retry_delays)
        topics.append(self.destination_blocks())
        topics.append(self.dlq_replays())
        topics.extend([self.kanalen(), self.abonnementen()])
        if any(tenant.sources for tenant in config.tenants):
            topics.extend([self.checkpoints(), self.pollers()])
        return topics
