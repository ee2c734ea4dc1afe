"""Topic names, and creating the topics a config needs. Names never carry personal data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.registry import CONTRACTS

if TYPE_CHECKING:
    from hub.config import HubConfig

__all__ = ["dead_letter_topic", "destination_topic", "event_key", "topics_for"]


def destination_topic(tenant: str, destination: str) -> str:
    return f"knooppunt.deliver.{tenant}.{destination}"


def dead_letter_topic(tenant: str) -> str:
    return f"knooppunt.dlq.{tenant}"


def event_key(tenant: str, subject: str) -> bytes:
    """Record key ``<tenant>:<subject>``: keeps order per submission or zaak, never a BSN."""
    return f"{tenant}:{subject}".encode()


def topics_for(config: HubConfig) -> list[str]:
    """Every topic the hub reads or writes for this config, in a stable order."""
    topics = [spec.topic for spec in CONTRACTS]
    for tenant in config.tenants:
        topics.extend(destination_topic(tenant.id, d.name) for d in tenant.destinations)
        topics.append(dead_letter_topic(tenant.id))
    topics.append(dead_letter_topic("unknown"))  # events naming no configured tenant
    return topics
