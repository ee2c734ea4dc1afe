"""What the hub reads of a consumed record, whichever client fetched it: aiokafka's
``ConsumerRecord`` (hub.kafka.consuming) or librdkafka's, copied into ``hub.kafka.threaded.Record``
(the router, the delivery engine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["KafkaRecord"]


class KafkaRecord(Protocol):
    """A record as read: bytes as written, headers in order (a name may repeat, a value may be
    null)."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]]: ...
