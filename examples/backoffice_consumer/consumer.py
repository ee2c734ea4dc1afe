"""The consume loop: read a batch, handle each record, then commit the batch's offsets.

At least once: an offset is committed only after its record was handled (kept, recognised as a
duplicate, or parked), so a crash means records are read again, never skipped; the store's
(source, id) key makes reading again harmless. A record that is not a valid event is parked and
the loop goes on; only a failure of the back office's own store stops it (nothing of that batch
is committed, so a restart reads it again).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from examples.backoffice_consumer.events import NotAnEvent, read_event

if TYPE_CHECKING:
    from collections.abc import Callable

    from confluent_kafka import Message

    from examples.backoffice_consumer.events import Schemas
    from examples.backoffice_consumer.store import EventStore

__all__ = ["ConsumerSettings", "handle_record", "run", "tenant_of_topic"]

log = logging.getLogger("backoffice")
_DESTINATION_TOPIC = re.compile(r"(?:^|\.)knooppunt\.deliver\.(?P<tenant>[^.]+)\.[^.]+$")


@dataclass(frozen=True)
class ConsumerSettings:
    bootstrap: str
    topic: str
    group: str
    tenant: str
    batch_size: int = 100


def tenant_of_topic(topic: str) -> str | None:
    """The tenant in ``[<prefix>]knooppunt.deliver.<tenant>.<destination>``, else None."""
    match = _DESTINATION_TOPIC.search(topic)
    return match["tenant"] if match else None


def handle_record(message: Message, tenant: str, schemas: Schemas, store: EventStore) -> str:
    """Handle one record; returns what happened: ``handled``, ``duplicate`` or ``parked``."""
    place = (message.topic() or "", message.partition() or 0, message.offset() or 0)
    value = message.value()
    try:
        # A consumed record's headers are (name, bytes or None) pairs; the stub allows more.
        headers = cast("list[tuple[str, bytes | None]] | None", message.headers())
        event = read_event(headers, value)
        if event.tenant != tenant:
            raise NotAnEvent(f"ce_tenant {event.tenant!r} is not this topic's tenant")
        schemas.check(event)
    except NotAnEvent as exc:
        # Where it is and why, never the value: it may hold personal data.
        log.warning("parked %s[%d]@%d: %s", *place, exc.reason)
        store.park(place, exc.reason, value)
        return "parked"
    if not store.keep(event, place):
        log.info("duplicate %s %s (source %s): handled before", event.type, event.id, event.source)
        return "duplicate"
    # Here a real back office starts its work: create the case, file the form...
    log.info("handled %s v%d %s (source %s)", event.type, event.version, event.id, event.source)
    return "handled"


def run(
    settings: ConsumerSettings,
    schemas: Schemas,
    store: EventStore,
    stopping: Callable[[], bool],
) -> None:
    """Consume ``settings.topic`` in ``settings.group`` until ``stopping()`` says so."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.bootstrap,
            "group.id": settings.group,
            "enable.auto.commit": False,  # committed below, after handling
            "auto.offset.reset": "earliest",  # a new group starts at the oldest kept event
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([settings.topic])
    log.info("reading %s in group %s", settings.topic, settings.group)
    try:
        while not stopping():
            messages = consumer.consume(num_messages=settings.batch_size, timeout=1.0)
            next_offsets: dict[tuple[str, int], int] = {}
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.fatal():
                        raise KafkaException(error)
                    log.warning("kafka: %s", error)  # transient; the client retries itself
                    continue
                handle_record(message, settings.tenant, schemas, store)
                where = (message.topic() or "", message.partition() or 0)
                next_offsets[where] = (message.offset() or 0) + 1
            if next_offsets:
                _commit(consumer, next_offsets)
    finally:
        consumer.close()  # leaves the group at once, so its partitions move without waiting


def _commit(consumer: Consumer, next_offsets: dict[tuple[str, int], int]) -> None:
    """Commit, synchronously. A commit refused because the group is rebalancing is not fatal:
    whoever gets the partition reads those records again, and the store recognises them."""
    try:
        consumer.commit(
            offsets=[TopicPartition(t, p, o) for (t, p), o in next_offsets.items()],
            asynchronous=False,
        )
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        if not isinstance(error, KafkaError) or error.fatal():
            raise
        log.warning("commit failed, these records will be read again: %s", error)
