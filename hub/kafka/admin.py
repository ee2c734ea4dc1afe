"""Creating the topics the hub needs (idempotent), through Kafka's admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hub.errors import KnooppuntError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["TopicCreationError", "ensure_topics", "partitions_of"]

_TOPIC_ALREADY_EXISTS = 36


class TopicCreationError(KnooppuntError):
    """Kafka refused to create a topic the hub needs."""


async def ensure_topics(
    bootstrap: str, topics: Sequence[str], partitions: int, replication: int = 1
) -> list[str]:
    """Create whichever of ``topics`` do not exist yet; return the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=replication)
                for t in missing
            ]
        )
        created = []
        for topic, code, *rest in response.topic_errors:
            if code == 0:
                created.append(topic)
            elif code != _TOPIC_ALREADY_EXISTS:  # another hub instance created it first
                detail = rest[0] if rest else ""
                raise TopicCreationError(f"Kafka refused topic {topic!r}: error {code} {detail}")
        return created
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` (for readers that assign partitions themselves)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]
