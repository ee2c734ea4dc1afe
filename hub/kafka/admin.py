"""Creating the topics the hub needs (idempotent), through Kafka's admin API."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaClient, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from hub.errors import KnooppuntError
from hub.kafka.clients import start_client
from hub.kafka.producing import HUB_RECORD_BYTES

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

__all__ = [
    "TopicCreationError",
    "ensure_topics",
    "metadata_problem",
    "partitions_of",
    "replication_for",
]

_TOPIC_ALREADY_EXISTS = 36
MAX_AUTO_REPLICATION = 3


class TopicCreationError(KnooppuntError):
    """Kafka refused to create a topic the hub needs, or the replication asked for cannot work."""


def replication_for(
    brokers: int, replication: int | None = None, min_insync: int | None = None
) -> tuple[int, int]:
    """The replication factor and ``min.insync.replicas`` of new topics on ``brokers`` brokers.

    ``None`` means automatic: ``min(3, brokers)`` replicas, and 2 in sync when there are 3 or
    more replicas (an acknowledged write is then on two brokers, and one broker may fail without
    stopping writes), else 1. Raises TopicCreationError when the choice cannot work: more replicas
    than brokers, or more in-sync replicas required than there are replicas (every write refused).
    """
    if brokers < 1:
        raise TopicCreationError("Kafka's metadata names no broker; cannot create topics")
    chosen = replication if replication is not None else min(MAX_AUTO_REPLICATION, brokers)
    if chosen > brokers:
        raise TopicCreationError(
            f"KNOOPPUNT_TOPIC_REPLICATION={chosen} but the cluster has {brokers} broker(s) "
            "running; set it to at most that, or 'auto'"
        )
    insync = min_insync if min_insync is not None else (2 if chosen >= 3 else 1)
    if insync > chosen:
        raise TopicCreationError(
            f"KNOOPPUNT_TOPIC_MIN_INSYNC_REPLICAS={insync} is more than the {chosen} replica(s) "
            "of each topic: Kafka would refuse every write; set it to at most that, or 'auto'"
        )
    return chosen, insync


async def ensure_topics(
    bootstrap: str,
    topics: Sequence[str],
    partitions: int,
    replication: int | None = None,
    min_insync: int | None = None,
    hub_written: Collection[str] = (),
    partitions_of: Mapping[str, int] | None = None,
    compacted: Collection[str] = (),
) -> list[str]:
    """Create whichever of ``topics`` do not exist yet; return the names it created.

    Each gets ``partitions`` partitions, or what ``partitions_of`` names for it (push
    destinations: KNOOPPUNT_PUSH_PARTITIONS). The ``compacted`` ones keep the last record per
    key for ever (``cleanup.policy=compact``) and have one partition.
    Replication and ``min.insync.replicas`` follow ``replication_for`` with the number of brokers
    the cluster's metadata names now. The ``hub_written`` ones (destinations, retry tiers, dead
    letters) take records up to HUB_RECORD_BYTES, so a contract record plus the hub's headers
    always fits. Topics that exist are left as they are.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    try:
        await start_client(admin)
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return []
        brokers = len((await admin.describe_cluster())["brokers"])
        large = {"max.message.bytes": str(HUB_RECORD_BYTES)}
        factor, insync = replication_for(brokers, replication, min_insync)
        response = await admin.create_topics(
            [
                NewTopic(
                    t,
                    num_partitions=1
                    if t in compacted
                    else (partitions_of or {}).get(t, partitions),
                    replication_factor=factor,
                    topic_configs={
                        "min.insync.replicas": str(insync),
                        **(large if t in hub_written else {}),
                        **({"cleanup.policy": "compact"} if t in compacted else {}),
                    },
                )
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
        await _leaders_elected(admin, created)
        return created
    finally:
        await admin.close()


async def _leaders_elected(
    admin: AIOKafkaAdminClient, topics: Sequence[str], limit_s: float = 15.0
) -> None:
    """Return once every partition of ``topics`` (created a moment ago) has a leader, or after
    ``limit_s``. A client that reads or writes a new topic before its leader is elected gets
    NotLeaderForPartition / LeaderNotAvailable, retries, and logs an error line for each (a
    first start printed a burst of them); waiting here costs a few hundred milliseconds once."""
    deadline = asyncio.get_running_loop().time() + limit_s
    waiting = list(topics)
    while waiting and asyncio.get_running_loop().time() < deadline:
        described = await admin.describe_topics(waiting)
        waiting = [
            topic["topic"]
            for topic in described
            if topic.get("error_code", 0) != 0
            or not topic["partitions"]
            or any(p.get("leader", -1) < 0 or p.get("error_code", 0) for p in topic["partitions"])
        ]
        if waiting:
            await asyncio.sleep(0.1)


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` (for readers that assign partitions themselves)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await start_client(admin)
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]


async def metadata_problem(bootstrap: str, timeout_s: float = 2.0) -> str | None:
    """Why a metadata request to ``bootstrap`` fails, in words for /readyz; None when it works."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
    except TimeoutError:
        return f"no metadata from {bootstrap} within {timeout_s:g} s"
    except KafkaConnectionError:
        return f"no broker of {bootstrap} accepts a connection"
    except KafkaError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await client.close()
    return None if client.cluster.brokers() else f"metadata from {bootstrap} names no broker"
