"""The producer the router and the delivery workers write with: raw records, no wrappers.

``acks="all"`` with idempotence: a record counts as written once every in-sync replica has it,
and a retried send is never written twice (KIP-98). Headers are passed as raw bytes, so a
record moved to a retry tier or to dead letters keeps its original headers byte for byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Sequence

    from aiokafka.structs import RecordMetadata

__all__ = ["RecordProducer"]


class RecordProducer:
    """Sends records; ``send`` returns once the record is queued, with a future of its ack."""

    def __init__(self, bootstrap: str, client_id: str = "knooppunt") -> None:
        self.bootstrap, self.client_id = bootstrap, client_id
        self._started: AIOKafkaProducer | None = None

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._started is None:
            raise RuntimeError("RecordProducer used before start()")
        return self._started

    async def start(self) -> None:
        """Connect (inside the running event loop, as aiokafka requires)."""
        self._started = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )
        await self._started.start()

    async def stop(self) -> None:
        if self._started is not None:
            await self._started.stop()

    async def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
    ) -> asyncio.Future[RecordMetadata]:
        """Queue one record; await the returned future for Kafka's acknowledgement."""
        future: asyncio.Future[RecordMetadata] = await self._producer.send(
            topic, value, key=key, headers=list(headers)
        )
        return future

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
    ) -> RecordMetadata:
        return await (await self.send(topic, value, key, headers))
