"""The router: reads contract topics, publishes one copy per matched destination.

It works per fetched batch of one partition (hub.kafka.threaded, on librdkafka): every copy (and
every dead letter) is handed to the writer in record order, all delivery reports are awaited
together, and only then is the batch committed. A record that cannot be routed for any reason
of its own (not a CloudEvent, breaks its contract, an unexpected error while deciding) goes to
its tenant's dead-letter topic with the cause in headers, and the batch goes on; only a copy that
Kafka does not acknowledge makes the batch be read again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contracts.cloudevents import CloudEvent
from contracts.registry import CONTRACTS
from hub.delivery.history import failure_headers, fresh_history
from hub.errors import ContractError, KnooppuntError
from hub.kafka.headers import text_headers
from hub.kafka.threaded import ThreadedConsumer
from hub.kafka.topics import UNKNOWN_TENANT, TopicNames
from hub.kafka.writing import BatchWriter, DeliveryFailedError, is_too_large
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text
from hub.routing.duplicates import RecentlyRouted, Seen
from hub.routing.rules import RoutingTable, Subscriptions, plan_routing

if TYPE_CHECKING:
    from confluent_kafka import KafkaError, Message

    from hub.config import HubConfig
    from hub.kafka.threaded import Record
    from hub.observability.metrics import Metrics

__all__ = ["BATCH_SIZE", "Router", "router_consumer"]

BATCH_SIZE = 500
log = get_logger(__name__)


class RecordTooLargeError(KnooppuntError):
    """A copy of the record is larger than its destination topic takes."""

    field: str | None = None


class ConflictingDuplicateError(KnooppuntError):
    """An event with the source and id of one routed before, but other data."""

    field: str | None = None


class UnexpectedRoutingError(KnooppuntError):
    """Deciding where a record goes raised something no contract check foresaw."""

    field: str | None = None


class _Written:
    """What was handed to the writer for one record, the delivery reports it gets, and what to
    count once every one of them is a success."""

    __slots__ = ("account", "copy", "dead_letter", "errors", "record", "refused", "unreported")

    def __init__(
        self,
        record: Record,
        unreported: list[int],
        account: Callable[[], None],
        dead_letter: tuple[str, list[tuple[str, bytes | None]]] | None = None,
    ) -> None:
        self.record, self.account, self.dead_letter = record, account, dead_letter
        self.unreported = unreported  # the batch's count of records sent without a report yet
        self.errors: list[KafkaError] = []
        self.refused: list[str] = []  # topics of copies refused on delivery, to try again alone
        self.copy: tuple[bytes, Sequence[tuple[str, bytes | None]]] | None = None  # value, headers

    def sent(self) -> None:
        self.unreported[0] += 1

    def delivered(self, error: KafkaError | None, message: Message) -> None:
        self.unreported[0] -= 1
        if error is not None:
            self.errors.append(error)
            self.refused.append(message.topic() or "")


class _Batch:
    """One partition's records as handed to the writer (hub.kafka.threaded's ``Pending``)."""

    __slots__ = ("router", "unreported", "written")

    def __init__(self, router: Router, written: list[_Written], unreported: list[int]) -> None:
        self.router, self.written, self.unreported = router, written, unreported

    def done(self) -> bool:
        return self.unreported[0] == 0

    def settle(self) -> None:
        """Count every record whose copies were all acknowledged. A copy refused as too large
        is tried once more in a request of its own; refused again, it is the record's own
        fault: the record goes to dead letters (written and awaited now, a rare path). Any
        other refusal (Kafka unavailable) raises: the batch is read again."""
        writer = self.router.writer
        for one in self.written:
            if not one.errors:
                one.account()
                continue
            if not all(is_too_large(error) for error in one.errors):
                raise DeliveryFailedError(one.errors[0])
            record = one.record
            if one.dead_letter is not None:  # the dead letter itself: alone, else without value
                topic, headers = one.dead_letter
                writer.keep(topic, record.value, record.key, headers)
                one.account()
                continue
            refusal = _first_refusal(writer, one)
            if refusal is None:
                one.account()
            elif is_too_large(refusal):
                self.router.too_large(record, refusal.str()).account()
            else:
                raise DeliveryFailedError(refusal)


def _first_refusal(writer: BatchWriter, one: _Written) -> KafkaError | None:
    """Write each refused copy of ``one`` again, alone; the first refusal, or None."""
    assert one.copy is not None
    value, headers = one.copy
    for topic in one.refused:
        refusal = writer.write_alone(topic, value, one.record.key, headers)
        if refusal is not None:
            return refusal
    return None


class Router:
    """Decides per record and hands copies and dead letters to ``writer``, in record order."""

    def __init__(
        self,
        writer: BatchWriter,
        config: HubConfig,
        metrics: Metrics,
        names: TopicNames,
        subscriptions: Subscriptions | None = None,
    ) -> None:
        self.writer, self.config, self.metrics, self.names = writer, config, metrics, names
        self.subscriptions = subscriptions  # abonnementen' destinations (hub.notificaties)
        self.table = RoutingTable(config)
        self.recently_routed = RecentlyRouted()
        self._unreported = [0]  # of the batch being sent (see send)
        # As many as the metrics' own label sets: tenants x event types x destination sets.
        self._counted: dict[tuple[str, str, tuple[str, ...]], tuple[list[Any], Any]] = {}
        received = metrics.events_received
        self._received = {
            names.contract(spec): received.labels(spec.type) for spec in CONTRACTS
        }  # a batch is one partition's records: one topic, one increment

    def send(self, records: Sequence[Record]) -> _Batch:
        """Route every record of one partition's batch (hub.kafka.threaded's ``BatchHandler``)."""
        self._unreported = unreported = [0]
        if records and (received := self._received.get(records[0].topic)) is not None:
            received.inc(len(records))
        return _Batch(self, [self._route(record) for record in records], unreported)

    def too_large(self, record: Record, reason: str) -> _Written:
        """Dead-letter ``record`` because a copy is too large, and wait for it (a rare path)."""
        cause = RecordTooLargeError(f"a copy is too large for its destination topic: {reason}")
        written = self._letter(record, cause, _tenant_of(record))
        assert written.dead_letter is not None
        topic, headers = written.dead_letter
        self.writer.keep(topic, record.value, record.key, headers)
        return written

    def _route(self, record: Record) -> _Written:
        try:
            event = CloudEvent.from_kafka(record.headers, record.value)
            seen = self.recently_routed.check(
                record.topic, record.partition, record.offset, event.source, event.id, event.data
            )
            if seen is not Seen.NEW:
                return self._seen_before(record, event, seen)
            plan = plan_routing(self.table, event, record.topic, self.names, self.subscriptions)
        except ContractError as exc:
            return self._dead_letter(record, exc, _tenant_of(record))
        except Exception as exc:  # no record may stop the router: this one is dead-lettered
            error = UnexpectedRoutingError(f"{type(exc).__name__}: {exc}")
            return self._dead_letter(record, error, _tenant_of(record))
        if plan.dead_letter is not None:
            return self._dead_letter(record, plan.dead_letter, event.tenant)
        self.recently_routed.remember(
            record.topic, record.partition, record.offset, event.source, event.id, event.data
        )
        if plan.unrouted:
            return _Written(record, self._unreported, lambda: self._account_unrouted(event))
        # The copy is the event in binary mode, whatever mode it came in: its ``data`` as the
        # value (never a structured envelope), its attributes as ce_ headers.
        headers = event.kafka_headers()
        written = _Written(
            record, self._unreported, lambda: self._account_routed(event, plan.destinations)
        )
        written.copy = (event.data, headers)
        try:
            for name in plan.destinations:
                self.writer.send(
                    self.names.destination(event.tenant, name),
                    event.data,
                    record.key,
                    headers,
                    written.delivered,
                )
                written.sent()
        except DeliveryFailedError as exc:
            if not exc.too_large:
                raise
            return self.too_large(record, str(exc))
        return written

    def _seen_before(self, record: Record, event: CloudEvent, seen: Seen) -> _Written:
        """A duplicate is counted and skipped; a conflict (other data) is dead-lettered."""
        if seen is Seen.CONFLICT:
            cause = ConflictingDuplicateError(
                f"event {event.id} of {event.source} was routed before with other data"
            )
            return self._dead_letter(record, cause, event.tenant)

        def account() -> None:
            self.metrics.events_duplicate.labels(event.tenant, event.type).inc()
            log.info(
                "event_duplicate_skipped",
                tenant=event.tenant,
                contract=event.type,
                event_id=event.id,
                offset=record.offset,
            )

        return _Written(record, self._unreported, account)

    def _account_unrouted(self, event: CloudEvent) -> None:
        self.metrics.events_unrouted.labels(event.tenant, event.type).inc()
        log.info("event_unrouted", tenant=event.tenant, contract=event.type, event_id=event.id)

    def _account_routed(self, event: CloudEvent, destinations: tuple[str, ...]) -> None:
        counted = self._counted.get((event.tenant, event.type, destinations))
        if counted is None:  # labels() takes a lock and builds a key: once per combination
            routed = self.metrics.events_routed
            counted = (
                [routed.labels(event.tenant, event.type, name) for name in destinations],
                self.metrics.routing_latency.labels(event.type),
            )
            self._counted[(event.tenant, event.type, destinations)] = counted
        for counter in counted[0]:
            counter.inc()
        counted[1].observe(max(0.0, time.time() - event.time.timestamp()))
        log.debug(
            "event_routed",
            tenant=event.tenant,
            contract=event.type,
            event_id=event.id,
            destinations=list(destinations),
        )

    def _dead_letter(self, record: Record, error: KnooppuntError, tenant: str) -> _Written:
        written = self._letter(record, error, tenant)
        assert written.dead_letter is not None
        topic, headers = written.dead_letter
        try:
            self.writer.send(topic, record.value, record.key, headers, written.delivered)
            written.sent()
        except DeliveryFailedError as exc:  # too large to queue: kept without its value later
            written.errors.append(exc.error)
        return written

    def _letter(self, record: Record, error: KnooppuntError, tenant: str) -> _Written:
        """The dead letter of ``record`` (not sent yet) and what to count once it is written."""
        label = tenant if self.table.tenant(tenant) is not None else UNKNOWN_TENANT
        topic = self.names.dead_letter(label)
        headers = failure_headers(record, fresh_history(record, ""), error, datetime.now(UTC))

        def account() -> None:
            self.metrics.dead_letters.labels(label, type(error).__name__).inc()
            log.warning(
                "event_dead_lettered",
                tenant=label,
                topic=topic,
                error_field=getattr(error, "field", None),
                error=redact_text(str(error)),
                original_topic=record.topic,
                original_offset=record.offset,
            )

        return _Written(record, self._unreported, account, (topic, headers))


def _tenant_of(record: Record) -> str:
    return text_headers(record.headers).get("ce_tenant", "")


def router_consumer(
    bootstrap: str,
    config: HubConfig,
    metrics: Metrics,
    names: TopicNames,
    subscriptions: Subscriptions | None = None,
) -> ThreadedConsumer:
    """The router's consumer-group member over every contract topic, with its own writer
    (librdkafka; not started). ``subscriptions``: destinations made at runtime (abonnementen)."""
    writer = BatchWriter(bootstrap)
    return ThreadedConsumer(
        bootstrap=bootstrap,
        topics=[names.contract(spec) for spec in CONTRACTS],
        group_id=names.group("router"),
        handler=Router(writer, config, metrics, names, subscriptions),
        writer=writer,
        name="router",
        max_records=BATCH_SIZE,
    )
