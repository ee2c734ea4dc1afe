"""The router on librdkafka (hub.kafka.threaded, hub.kafka.writing), on a real broker: copies and
dead letters in record order, refusals that are a record's own fault dead-lettered, offsets
committed past everything handled and never past a batch Kafka did not acknowledge."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from contracts.cloudevents import CloudEvent, source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.kafka.admin import ensure_topics
from hub.kafka.headers import text_headers
from hub.kafka.threaded import Record
from hub.kafka.topics import TopicNames
from hub.kafka.writing import BatchWriter, DeliveryFailedError
from hub.observability.metrics import Metrics
from hub.routing.router import Router, router_consumer
from tests.integration.helpers import hub_config, tenant_entry
from tests.integration.test_hostile_records import _committed, _produce
from tests.kafka_reading import read_topics
from tests.kafka_under_test import KafkaUnderTest
from tests.samples import submission

pytestmark = pytest.mark.kafka
TYPE = "nl.gemeente.formulier.ingediend"
SPEC = contract_for(TYPE, 1)


def _config() -> Any:
    return hub_config(
        [tenant_entry("0363", {"archief": None, "parkeren": None})],
        [
            {"tenant": "0363", "contract": TYPE, "to": ["archief"]},
            {
                "tenant": "0363",
                "contract": TYPE,
                "when": {"form.id": "parkeervergunning"},
                "to": ["parkeren"],
            },
        ],
    )


def _event(form_id: str = "parkeervergunning") -> tuple[CloudEvent, bytes]:
    return build_event(
        SPEC, submission(form_id), tenant="0363", source=source_urn("0" * 20, "test")
    )


async def _small_topic(bootstrap: str, topic: str, max_bytes: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": str(max_bytes)})]
        )
    finally:
        await admin.close()


async def _until_committed(bootstrap: str, group: str, topic: str, offset: int) -> int:
    committed = -1
    for _ in range(300):
        with contextlib.suppress(KafkaError):  # a fresh broker's coordinator is still loading
            committed = await _committed(bootstrap, group, topic)
        if committed == offset:
            break
        await asyncio.sleep(0.1)
    return committed


async def _route(
    bootstrap: str,
    names: TopicNames,
    config: Any,
    records: list[tuple[bytes, bytes, list[tuple[str, bytes | None]]]],
) -> int:
    """Run a router while ``records`` go onto the contract topic; its committed offset once
    every record is handled (-1 when that never happens)."""
    consumer = router_consumer(bootstrap, config, Metrics(), names)
    await consumer.start()
    try:
        await _produce(bootstrap, names.contract(SPEC), records)
        return await _until_committed(
            bootstrap, names.group("router"), names.contract(SPEC), len(records)
        )
    finally:
        await consumer.stop()


async def test_copies_and_dead_letters_keep_record_order(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    """300 records on one partition, every seventh not a valid event: each destination gets its
    copies in record order, dead letters come in record order, and the offset moves past all."""
    names, config, bootstrap = TopicNames(prefix), _config(), kafka.bootstrap
    await ensure_topics(bootstrap, names.all_for(config), 1)
    records, expected, broken = [], [], []
    for i in range(300):
        event, key = _event("parkeervergunning" if i % 2 else "anders")
        headers: list[tuple[str, bytes | None]] = list(event.kafka_headers())
        if i % 7 == 0:
            headers.append(("ce_Bad", b"x"))  # not an attribute name: a dead letter
            broken.append(event.id)
        else:
            expected.append((event.id, i % 2 == 1))
        records.append((b"one-key", event.data, headers))
        del key
    committed = await _route(bootstrap, names, config, records)
    archive = await read_topics(bootstrap, [names.destination("0363", "archief")], len(expected))
    parking = await read_topics(bootstrap, [names.destination("0363", "parkeren")], 1)
    dead = await read_topics(bootstrap, [names.dead_letter("0363")], len(broken))
    assert committed == len(records)
    assert [text_headers(r.headers)["ce_id"] for r in archive] == [i for i, _ in expected]
    assert [text_headers(r.headers)["ce_id"] for r in parking] == [i for i, p in expected if p]
    assert [text_headers(r.headers)["ce_id"] for r in dead] == broken
    assert {text_headers(r.headers)["knooppunt_error_field"] for r in dead} == {"ce_Bad"}
    assert [int(text_headers(r.headers)["knooppunt_original_offset"]) for r in dead] == [
        i for i in range(300) if i % 7 == 0
    ]


async def test_a_copy_too_large_for_its_destination_is_dead_lettered_and_the_rest_routed(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    names, config, bootstrap = TopicNames(prefix), _config(), kafka.bootstrap
    await _small_topic(bootstrap, names.destination("0363", "archief"), 3000)
    await ensure_topics(bootstrap, names.all_for(config), 1)
    small, _ = _event()
    large, _ = _event()
    padded = large.data.replace(b'"AB-123-C"', b'"AB-123-C", "pad": "' + b"x" * 5000 + b'"')
    records: list[tuple[bytes, bytes, list[tuple[str, bytes | None]]]] = [
        (b"k1", padded, list(large.kafka_headers())),
        (b"k2", small.data, list(small.kafka_headers())),
    ]
    committed = await _route(bootstrap, names, config, records)
    archive = await read_topics(bootstrap, [names.destination("0363", "archief")], 1)
    dead = await read_topics(bootstrap, [names.dead_letter("0363")], 1)
    assert committed == 2
    assert [text_headers(r.headers)["ce_id"] for r in archive] == [small.id]
    [letter] = dead
    assert text_headers(letter.headers)["ce_id"] == large.id
    assert text_headers(letter.headers)["knooppunt_error_class"] == "RecordTooLargeError"
    assert letter.value == padded


async def test_the_writer_keeps_a_record_too_large_for_its_topic_without_its_value(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    topic = f"{prefix}small"
    await _small_topic(kafka.bootstrap, topic, 2000)
    writer = BatchWriter(kafka.bootstrap)
    try:
        await asyncio.to_thread(
            writer.keep, topic, b"x" * 5000, b"k", [("knooppunt_original_offset", b"84")]
        )
    finally:
        writer.close()
    [kept] = await read_topics(kafka.bootstrap, [topic], 1)
    assert kept.value is None
    assert text_headers(kept.headers)["knooppunt_value_dropped"] == "5000"
    assert text_headers(kept.headers)["knooppunt_original_offset"] == "84"


async def test_a_batch_kafka_does_not_acknowledge_is_read_again_and_then_committed(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    """A copy to a topic that does not exist (and is not created automatically) is never
    acknowledged: nothing is committed; once the topic exists the same batch is routed."""
    names, config, bootstrap = TopicNames(prefix), _config(), kafka.bootstrap
    archive = names.destination("0363", "archief")
    await ensure_topics(
        bootstrap, [t for t in names.all_for(config) if t != archive and "parkeren" not in t], 1
    )
    event, _ = _event("anders")  # routed to archief only
    consumer = router_consumer(bootstrap, config, Metrics(), names)
    consumer.retry_pause_s = 0.5
    consumer.writer = writer = _ShortTimeoutWriter(bootstrap)
    assert isinstance(consumer.handler, Router)
    consumer.handler.writer = writer
    await consumer.start()
    try:
        await _produce(
            bootstrap, names.contract(SPEC), [(b"k", event.data, list(event.kafka_headers()))]
        )
        await asyncio.sleep(4)  # longer than the writer's delivery timeout
        never = await _until_committed(bootstrap, names.group("router"), names.contract(SPEC), 1)
        assert never == -1
        await ensure_topics(bootstrap, [archive], 1)
        committed = await _until_committed(
            bootstrap, names.group("router"), names.contract(SPEC), 1
        )
    finally:
        await consumer.stop()
    copies = await read_topics(bootstrap, [archive], 1)
    assert committed == 1
    assert text_headers(copies[0].headers)["ce_id"] == event.id


class _ShortTimeoutWriter(BatchWriter):
    """The router's writer with a 2 s delivery timeout (30 s in the hub)."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(bootstrap, delivery_timeout_ms=2000)


def test_a_record_with_no_reachable_topic_fails_its_batch_not_the_next() -> None:
    """Without a broker nothing is acknowledged: the batch raises DeliveryFailedError, so the
    consumer commits none of it (hub.kafka.threaded)."""
    writer = BatchWriter("127.0.0.1:1", delivery_timeout_ms=500)
    names = TopicNames("x.")
    router = Router(writer, _config(), Metrics(), names)
    event, key = _event()
    record = Record(names.contract(SPEC), 0, 0, key, event.data, tuple(event.kafka_headers()))
    batch = router.send([record])
    writer.wait()
    with pytest.raises(DeliveryFailedError):
        batch.settle()


async def test_a_duplicate_on_the_contract_topic_is_routed_once_and_a_conflict_dead_lettered(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    """Issue 8: the same submission published three times (two hub processes, a client retrying
    through a load balancer) was routed three times. Same source and id: routed once; the same
    id with other data: dead-lettered with its cause; a dead letter replayed: routed."""
    names, config, bootstrap = TopicNames(prefix), _config(), kafka.bootstrap
    await ensure_topics(bootstrap, names.all_for(config), 1)
    event, key = _event("anders")  # archief only
    other = event.data.replace(b'"AB-123-C"', b'"ZZ-999-Z"')
    assert other != event.data
    broken, broken_key = _event("anders")
    headers: list[tuple[str, bytes | None]] = list(event.kafka_headers())
    records: list[tuple[bytes, bytes, list[tuple[str, bytes | None]]]] = [
        (key, event.data, headers),
        (key, event.data, headers),
        (broken_key, b'{"not": "a submission"}', list(broken.kafka_headers())),
        (key, other, headers),
        (key, event.data, headers),
        (broken_key, broken.data, list(broken.kafka_headers())),  # the corrected resend
    ]
    committed = await _route(bootstrap, names, config, records)
    archive = await read_topics(bootstrap, [names.destination("0363", "archief")], 2)
    dead = await read_topics(bootstrap, [names.dead_letter("0363")], 2)
    assert committed == len(records)
    assert [text_headers(r.headers)["ce_id"] for r in archive] == [event.id, broken.id]
    assert archive[0].value == event.data
    classes = [text_headers(letter.headers)["knooppunt_error_class"] for letter in dead]
    assert classes == ["ContractError", "ConflictingDuplicateError"]
    assert dead[1].value == other
