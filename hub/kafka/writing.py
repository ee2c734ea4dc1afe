"""The router's producer on librdkafka (confluent-kafka): records handed over in order, every
delivery report awaited per fetch, no future per message.

The same guarantees as ``hub.kafka.producing.RecordProducer``: ``acks=all`` with idempotence
(KIP-98: a retried send is never written twice, order per partition kept), the same size limit,
and Java's murmur2 partitioner (``murmur2_random``), so a key lands on the partition aiokafka and
every Java client choose for it. Used from one thread only (``hub.kafka.threaded``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from confluent_kafka import KafkaError, KafkaException, Producer

from hub.kafka.producing import HUB_RECORD_BYTES

if TYPE_CHECKING:
    import threading
    from collections.abc import Sequence

    from confluent_kafka import Message

__all__ = [
    "TOO_LARGE_CODES",
    "BatchWriter",
    "DeliveryFailedError",
    "WaitAbandonedError",
    "is_too_large",
]

# Refusals that are the record's own fault and the same on every try.
TOO_LARGE_CODES = frozenset({KafkaError.MSG_SIZE_TOO_LARGE})
DELIVERY_TIMEOUT_MS = 30_000  # then a copy counts as not acknowledged: the batch is read again
_WAIT_SLICE_S = 0.2  # how often a wait looks whether ``stop`` gave up on it

OnDelivery = Callable[["KafkaError | None", "Message"], None]


class WaitAbandonedError(Exception):
    """The wait for delivery reports was given up (the consumer stops): commit nothing."""


class DeliveryFailedError(Exception):
    """Kafka did not take or did not acknowledge a record (the error is librdkafka's)."""

    def __init__(self, error: KafkaError) -> None:
        super().__init__(error.str())
        self.error = error

    @property
    def too_large(self) -> bool:
        return is_too_large(self.error)


def is_too_large(error: KafkaError) -> bool:
    return error.code() in TOO_LARGE_CODES


class BatchWriter:
    """Sends raw records; ``send`` only queues, ``wait`` returns once every queued record has
    its delivery report (each ``on_delivery`` called by then)."""

    def __init__(
        self,
        bootstrap: str,
        client_id: str = "knooppunt-router",
        delivery_timeout_ms: int = DELIVERY_TIMEOUT_MS,
    ) -> None:
        self.bootstrap = bootstrap
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "client.id": client_id,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "socket.nagle.disable": True,  # small requests, each awaited: no 40 ms Nagle waits
                "batch.size": 16384,  # aiokafka's default, as the hub's other producer
                "message.max.bytes": HUB_RECORD_BYTES - 4096,  # refused here before the broker
                "partitioner": "murmur2_random",
                "delivery.timeout.ms": delivery_timeout_ms,
                "logger": logging.getLogger("librdkafka"),
            }
        )

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
        on_delivery: OnDelivery,
    ) -> None:
        """Queue one record. Raises DeliveryFailedError at once when librdkafka refuses it
        (``too_large``: larger than any topic of the hub takes)."""
        raw = cast("list[tuple[str, str | bytes | None]]", headers)  # read, never changed
        try:
            try:
                self._producer.produce(topic, value, key, headers=raw, on_delivery=on_delivery)
            except BufferError:  # the local queue is full: make room, then try once more
                self._producer.poll(1.0)
                self._producer.produce(topic, value, key, headers=raw, on_delivery=on_delivery)
        except KafkaException as exc:
            raise DeliveryFailedError(exc.args[0]) from exc

    def warm(self, timeout_s: float = 15.0) -> None:
        """Fetch the metadata of every topic once, before the first record: otherwise the first
        copies to each of 1,020 destination topics wait for it topic by topic (measured at 340
        tenants: the first 6,000 routed events took 17-40 s, with warm metadata about 6 s).
        A failure only means the first sends fetch it themselves."""
        try:
            self._producer.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            logging.getLogger("librdkafka").warning("metadata warm-up failed: %s", exc)

    def poll(self, timeout_s: float) -> None:
        """Serve the delivery reports that are in (waiting up to ``timeout_s`` for one)."""
        self._producer.poll(timeout_s)

    def wait_until(self, done: Callable[[], bool], abandon: threading.Event | None = None) -> None:
        """Serve delivery reports until ``done()`` (or raise once ``abandon`` is set)."""
        while not done():
            self._producer.poll(_WAIT_SLICE_S / 10)
            if abandon is not None and abandon.is_set():
                raise WaitAbandonedError

    def wait(self, abandon: threading.Event | None = None) -> None:
        """Until every queued record has its delivery report (or raise once ``abandon`` is
        set: the caller commits nothing then)."""
        while self._producer.flush(_WAIT_SLICE_S) > 0:
            if abandon is not None and abandon.is_set():
                raise WaitAbandonedError

    def write_alone(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
    ) -> KafkaError | None:
        """Write one record in a request of its own and wait for it: its refusal, or None.

        Every record queued before is flushed first. Why alone: the broker refuses a whole
        batch when it is larger than the topic takes, and librdkafka does not split it, so a
        copy refused as too large may only have shared a batch with one that is."""
        self.wait()
        failures: list[KafkaError] = []

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failures.append(error)

        try:
            self.send(topic, value, key, headers, delivered)
            self.wait()
        except DeliveryFailedError as exc:
            return exc.error
        return failures[0] if failures else None

    def keep(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
    ) -> None:
        """Write one record and wait for it; when it is too large for ``topic``, the same
        record without its value (as ``RecordProducer.keep``). Raises DeliveryFailedError."""
        refused = self.write_alone(topic, value, key, headers)
        if refused is not None and is_too_large(refused):
            dropped = [*headers, ("knooppunt_value_dropped", str(len(value or b"")).encode())]
            refused = self.write_alone(topic, None, key, dropped)
        if refused is not None:
            raise DeliveryFailedError(refused)

    def close(self) -> None:
        self._producer.flush(DELIVERY_TIMEOUT_MS / 1000)
