"""Durable checkpoints of polling sources, in one compacted Kafka topic.

Topic ``<prefix>knooppunt.checkpoints`` (``cleanup.policy=compact``, one partition so a read is
one pass), key ``<source>:<tenant>``, value the source's opaque checkpoint (UTF-8, at most
1 KiB). The latest record per key is the checkpoint; compaction keeps the topic small. A write
returns only once the broker acknowledged it (acks=all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hub.errors import KnooppuntError
from hub.kafka.clients import start_client

if TYPE_CHECKING:
    from collections.abc import Collection

    from hub.kafka.topics import TopicNames

__all__ = ["MAX_CHECKPOINT_BYTES", "CheckpointStore", "checkpoint_key"]

MAX_CHECKPOINT_BYTES = 1024
_TOPIC_ALREADY_EXISTS = 36


def checkpoint_key(source: str, tenant: str) -> str:
    """``<source>:<tenant>``: names only, never data."""
    return f"{source}:{tenant}"


class CheckpointStore:
    """Reads every checkpoint at ``start`` and writes new ones through one producer."""

    def __init__(self, bootstrap: str, names: TopicNames) -> None:
        self.bootstrap = bootstrap
        self.topic = names.checkpoints()
        self._checkpoints: dict[str, str] = {}
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Create the topic if missing, read it to its end, open the producer."""
        await self._ensure_topic()
        self._checkpoints = await self._read_all()
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await start_client(self._producer)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def refresh(self, keys: Collection[str]) -> None:
        """Read the topic to its end again for ``keys``: another process may have stored their
        checkpoints since (a poller taken over starts where the other stopped). Other keys keep
        what this process stored itself."""
        found = await self._read_all()
        for key in keys:
            if key in found:
                self._checkpoints[key] = found[key]
            else:
                self._checkpoints.pop(key, None)

    def get(self, key: str) -> str | None:
        """The last stored checkpoint of ``key``; None when it never had one."""
        return self._checkpoints.get(key)

    async def save(self, key: str, checkpoint: str) -> None:
        """Store ``checkpoint`` for ``key``; returns once Kafka acknowledged it.

        Raises ValueError for a checkpoint over MAX_CHECKPOINT_BYTES.
        """
        value = checkpoint.encode()
        if len(value) > MAX_CHECKPOINT_BYTES:
            raise ValueError(f"checkpoint of {key} is {len(value)} bytes; at most 1 KiB")
        if self._producer is None:
            raise KnooppuntError("the checkpoint store is not started")
        await self._producer.send_and_wait(self.topic, value, key=key.encode())
        self._checkpoints[key] = checkpoint

    async def _ensure_topic(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=15000)
        await start_client(admin)
        try:
            if self.topic in set(await admin.list_topics()):
                return
            topic = NewTopic(self.topic, 1, 1, topic_configs={"cleanup.policy": "compact"})
            response = await admin.create_topics([topic])
            for name, code, *_ in response.topic_errors:
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    raise KnooppuntError(f"Kafka refused topic {name!r}: error {code}")
        finally:
            await admin.close()

    async def _read_all(self) -> dict[str, str]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await start_client(consumer)
        try:
            partition = TopicPartition(self.topic, 0)
            consumer.assign([partition])
            await consumer.seek_to_beginning(partition)
            end = (await consumer.end_offsets([partition]))[partition]
            found: dict[str, str] = {}
            while await consumer.position(partition) < end:
                for records in (await consumer.getmany(partition, timeout_ms=500)).values():
                    for record in records:
                        _remember(found, record.key, record.value)
            return found
        finally:
            await consumer.stop()


def _remember(found: dict[str, str], key: bytes | None, value: bytes | None) -> None:
    """One record of the compacted topic: a checkpoint, or a tombstone that removes one. A
    record that is not UTF-8 was not written by the hub and is passed over, never fatal."""
    try:
        name = key.decode("utf-8") if key is not None else None
        text = value.decode("utf-8") if value is not None else None
    except UnicodeDecodeError:
        return
    if name is None:
        return
    if text is None:
        found.pop(name, None)
    else:
        found[name] = text
