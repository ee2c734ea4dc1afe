"""Issue 7's reproductions, on a real broker: no record can stall or lose other events.

Each test is one fault found by a hostile producer: a bad header, a poison number, a bad
traceparent, a sink that raises. Each failed before the consumers read raw records.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from connectors.sdk import HttpRequest, HttpResponse, MockTransport
from contracts.cloudevents import CloudEvent, source_urn, valid_traceparent
from contracts.events import build_event
from contracts.registry import contract_for
from hub.delivery.worker import DeliveryWorkers
from hub.kafka.admin import ensure_topics
from hub.kafka.headers import text_headers
from hub.kafka.producing import RecordProducer
from hub.observability.metrics import Metrics
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.integration.helpers import hub_config, tenant_entry, until, wait_ready
from tests.kafka_reading import read_topics
from tests.kafka_under_test import KafkaUnderTest
from tests.samples import submission

pytestmark = pytest.mark.kafka
TYPE = "nl.gemeente.formulier.ingediend"
SPEC = contract_for(TYPE, 1)
AUTH = {"Authorization": f"Bearer {demo_token()}"}


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


def _event(**values: Any) -> tuple[CloudEvent, bytes]:
    payload = submission(values={"kenteken": "AB-123-C", **values})
    return build_event(SPEC, payload, tenant="0363", source=source_urn("0" * 20, "test"))


def _headers(event: CloudEvent) -> list[tuple[str, bytes | None]]:
    return list(event.kafka_headers())


async def _produce(
    bootstrap: str, topic: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes | None]]]]
) -> None:
    """Records in one go, in order, on one partition (the producer batches them)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, headers=headers, partition=0)
            for key, value, headers in records
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    meta = offsets.get(TopicPartition(topic, 0))
    return -1 if meta is None else int(meta.offset)


def _archive_config() -> Any:
    return hub_config(
        [tenant_entry("0363", {"archief": None})],
        [{"tenant": "0363", "contract": TYPE, "to": ["archief"]}],
    )


async def test_a_bad_header_loses_nothing_and_stalls_nothing(hub_settings: Settings) -> None:
    """Reported: a valid event, a copy with header x-trace = C3 28 (not UTF-8) or a null header,
    and a second valid event, produced in one go: neither valid event was routed or
    dead-lettered, and the router's offset later moved past all three."""
    names, bootstrap = hub_settings.topics, hub_settings.kafka_bootstrap_servers
    # Distinct events: the same source and id again would be a duplicate, routed once.
    first, traced, nulled, broken, second = (_event()[0] for _ in range(5))
    key1, key2 = b"0363:one-key", b"0363:other-key"
    records = [
        (key1, first.data, _headers(first)),
        (key1, traced.data, [*_headers(traced), ("x-trace", b"\xc3\x28")]),
        (key1, nulled.data, [*_headers(nulled), ("x-null", None)]),
        (key1, broken.data, [*_headers(broken), ("ce_extra", b"\xc3\x28")]),  # not a CloudEvent
        (key2, second.data, _headers(second)),
    ]
    contract_topic = names.contract(SPEC)
    async with running_hub(hub_settings, _archive_config()) as (_hub, http):
        await wait_ready(http)
        await _produce(bootstrap, contract_topic, records)
        routed = await read_topics(bootstrap, [names.destination("0363", "archief")], 4)
        dead = await read_topics(bootstrap, [names.dead_letter("0363")], 1)
        group = names.group("router")
        for _ in range(100):
            if await _committed(bootstrap, group, contract_topic) == len(records):
                break
            await asyncio.sleep(0.1)
    ids = [text_headers(r.headers)["ce_id"] for r in routed]
    assert sorted(ids) == sorted([first.id, traced.id, nulled.id, second.id])
    assert len(dead) == 1
    assert text_headers(dead[0].headers)["knooppunt_error_field"] == "ce_extra"
    assert ("ce_extra", b"\xc3\x28") in dead[0].headers  # the letter keeps the original bytes
    assert await _committed(bootstrap, names.group("router"), contract_topic) == len(records)


async def test_a_poison_number_is_refused_at_the_edge_and_stalls_no_tenant(
    hub_settings: Settings,
) -> None:
    """Reported: an integer of 400 digits was accepted (202), then the router logged 300 errors/s
    and routed nothing for any tenant; an integer of 21 digits arrived as 1e+21."""
    names, bootstrap = hub_settings.topics, hub_settings.kafka_bootstrap_servers
    async with running_hub(hub_settings, _archive_config()) as (_hub, http):
        await wait_ready(http)
        for text in ("9" * 400, "1" + "0" * 20, "NaN", "1e400", '"\\ud83d"'):
            body = orjson.dumps(submission()).replace(b'"AB-123-C"', text.encode())
            refused = await http.post(
                "/api/v1/tenants/0363/submissions",
                content=body,
                headers={**AUTH, "Content-Type": "application/json"},
            )
            assert refused.status_code == 400, text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["invalidParams"][0]["name"] == "values.kenteken", text
        # A producer that writes to Kafka directly meets the same rule at the router.
        poison, key = _event()
        poisoned = poison.data.replace(b'"AB-123-C"', b"9" * 400)
        valid, valid_key = _event()
        await _produce(
            bootstrap,
            names.contract(SPEC),
            [(key, poisoned, _headers(poison)), (valid_key, valid.data, _headers(valid))],
        )
        routed = await read_topics(bootstrap, [names.destination("0363", "archief")], 1)
        dead = await read_topics(bootstrap, [names.dead_letter("0363")], 1)
    assert [text_headers(r.headers)["ce_id"] for r in routed] == [valid.id]
    cause = text_headers(dead[0].headers)
    assert cause["knooppunt_error_field"] == "values.kenteken"
    assert "RFC 7493" in cause["knooppunt_error_message"]


async def test_numbers_reach_the_back_office_exactly_as_sent(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    config = hub_config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        [{"tenant": "0363", "contract": TYPE, "to": ["zaken"]}],
    )
    exact = b'{"grootste": 9007199254740991, "klein": 1e-7, "prijs": 12.50, "nul": -0}'
    body = orjson.dumps(submission()).replace(b'"values":{', b'"values":' + exact[:-1] + b",")
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        accepted = await http.post(
            "/api/v1/tenants/0363/submissions",
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        assert accepted.status_code == 202, accepted.text
        await until(lambda: bool(backoffice.accepted("zaken")))
    values = backoffice.accepted("zaken")[0].body["data"]["values"]  # type: ignore[index]
    assert values["grootste"] == 9007199254740991
    assert isinstance(values["grootste"], int)
    assert values["klein"] == 1e-7
    assert values["prijs"] == 12.5


async def test_a_bad_traceparent_blocks_nothing(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    """Reported: traceparent 00-caf<c3><a9>-b-01 was accepted (202), then the delivery worker
    raised UnicodeEncodeError every second and its partition never moved again; a
    5,000-character traceparent of the right dash shape was passed on as is."""
    names, bootstrap = hub_settings.topics, hub_settings.kafka_bootstrap_servers
    config = hub_config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        [{"tenant": "0363", "contract": TYPE, "to": ["zaken"]}],
    )
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        sent = []
        for traceparent in (b"00-caf\xc3\xa9-b-01", b"00-" + b"a" * 5000 + b"-b-01"):
            answer = await http.post(
                "/api/v1/tenants/0363/submissions",
                json=submission(),
                headers=[
                    (b"Authorization", AUTH["Authorization"].encode()),
                    (b"traceparent", traceparent),
                ],
            )
            assert answer.status_code == 202
            sent.append(answer.json()["id"])
        # The same values straight onto the destination topic (a producer the ACLs let in).
        direct = []
        for bad in (b"00-caf\xc3\xa9-b-01", b"00-" + b"a" * 5000 + b"-b-01", b"\xff\xfe"):
            event, key = _event()
            headers = [(n, v) for n, v in _headers(event) if n != "ce_traceparent"]
            await _produce(
                bootstrap,
                names.destination("0363", "zaken"),
                [(key, event.data, [*headers, ("traceparent", bad)])],
            )
            direct.append(event.id)
        after = [
            (
                await http.post("/api/v1/tenants/0363/submissions", json=submission(), headers=AUTH)
            ).json()["id"]
            for _ in range(3)
        ]
        await until(lambda: len(backoffice.accepted("zaken")) >= 8)
    received = backoffice.accepted("zaken")
    assert sorted(r.body["id"] for r in received) == sorted(sent + direct + after)  # type: ignore[index]
    for request in received:
        trace = request.headers.get("traceparent")
        assert trace is None or valid_traceparent(trace) == trace


async def test_an_unexpected_sink_error_fails_one_attempt_not_the_batch(
    hub_settings: Settings, prefix: str
) -> None:
    """Any exception a sink raises is a failed attempt of that one event: retried, then
    dead-lettered; the events after it in the same partition are delivered."""
    names, bootstrap = hub_settings.topics, hub_settings.kafka_bootstrap_servers
    tenants = [tenant_entry("0363", {"zaken": "http://backoffice.invalid/zaken"})]
    routes = [{"tenant": "0363", "contract": TYPE, "to": ["zaken"]}]
    config = hub_config(tenants, routes)
    poison_id = str(uuid.uuid4())
    delivered: list[str] = []

    def answer(request: HttpRequest) -> HttpResponse:
        document = orjson.loads(request.body or b"")
        if document["id"] == poison_id:
            raise RuntimeError("a bug in the sink")
        delivered.append(document["id"])
        return HttpResponse(201)

    await ensure_topics(bootstrap, names.all_for(config), 1)
    producer = RecordProducer(bootstrap)
    await producer.start()
    workers = DeliveryWorkers(producer, config, Metrics(), names, transport=MockTransport(answer))
    consumers = workers.consumers(bootstrap)
    for consumer in consumers:
        await consumer.start()
    try:
        events = [_event() for _ in range(4)]
        poison, poison_key = _event()
        poison = CloudEvent(**{**poison.__dict__, "id": poison_id})
        records = [(poison_key, poison.data, _headers(poison))]
        records += [(key, event.data, _headers(event)) for event, key in events]
        await _produce(bootstrap, names.destination("0363", "zaken"), records)
        await until(lambda: len(delivered) == 4, 30)
        dead = await read_topics(bootstrap, [names.dead_letter("0363")], 1, timeout_s=60)
    finally:
        for consumer in consumers:
            await consumer.stop(5)
        await producer.stop()
        await workers.close()
    assert sorted(delivered) == sorted(event.id for event, _ in events)
    assert len(dead) == 1
    letter = text_headers(dead[0].headers)
    assert letter["ce_id"] == poison_id
    assert letter["knooppunt_attempts"] == "4"  # the first try and one per tier (1s, 2s, 3s)
    assert "RuntimeError" in letter["knooppunt_error_message"]


async def test_a_record_near_the_size_limit_is_dead_lettered_not_stuck(
    hub_settings: Settings,
) -> None:
    """Found by a new user: a contract record of 1,047,842 bytes holding a NaN was accepted by
    Kafka; its dead letter, with the hub's headers, was over 1 MiB, and the router retried it
    every second for ever, the records after it never routed."""
    names, bootstrap = hub_settings.topics, hub_settings.kafka_bootstrap_servers
    poison, key = _event()
    filler = b'"' + b"x" * 1_040_000 + b'"'
    huge = poison.data.replace(b'"AB-123-C"', b'NaN, "pad": ' + filler)
    valid, valid_key = _event()
    async with running_hub(hub_settings, _archive_config()) as (_hub, http):
        await wait_ready(http)
        await _produce(
            bootstrap,
            names.contract(SPEC),
            [(key, huge, _headers(poison)), (valid_key, valid.data, _headers(valid))],
        )
        routed = await read_topics(bootstrap, [names.destination("0363", "archief")], 1)
        dead = await read_topics(bootstrap, [names.dead_letter("0363")], 1)
    assert len(huge) > 1_040_000
    assert [text_headers(r.headers)["ce_id"] for r in routed] == [valid.id]
    assert len(dead) == 1
    assert dead[0].value == huge  # the dead letter keeps the whole record
    assert text_headers(dead[0].headers)["knooppunt_error_field"] == "values.kenteken"


async def test_a_record_too_large_even_for_dead_letters_is_kept_without_its_value(
    kafka: KafkaUnderTest, prefix: str
) -> None:
    """The last resort of RecordProducer.keep: a topic made with a smaller limit than the hub's
    gets the record without its value, never a stalled consumer."""
    topic = f"{prefix}small"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "2000"})]
        )
    finally:
        await admin.close()
    producer = RecordProducer(kafka.bootstrap)
    await producer.start()
    try:
        await producer.keep(topic, b"x" * 5000, b"k", [("knooppunt_original_offset", b"84")])
    finally:
        await producer.stop()
    [kept] = await read_topics(kafka.bootstrap, [topic], 1)
    assert kept.value is None
    assert text_headers(kept.headers)["knooppunt_value_dropped"] == "5000"
    assert text_headers(kept.headers)["knooppunt_original_offset"] == "84"


async def test_a_structured_event_is_copied_in_binary_mode(hub_settings: Settings) -> None:
    """Found by a new user: a structured-mode event was routed with its whole envelope as the
    copy's value, under binary-mode headers: back offices got the event wrapped twice."""
    names, bootstrap = hub_settings.topics, hub_settings.kafka_bootstrap_servers
    event, key = _event()
    envelope = {**event.attributes(), "datacontenttype": "application/json"}
    value = orjson.dumps({**envelope, "data": orjson.loads(event.data)})
    headers: list[tuple[str, bytes | None]] = [
        ("content-type", b"application/cloudevents+json; charset=utf-8")
    ]
    async with running_hub(hub_settings, _archive_config()) as (_hub, http):
        await wait_ready(http)
        await _produce(bootstrap, names.contract(SPEC), [(key, value, headers)])
        [copy] = await read_topics(bootstrap, [names.destination("0363", "archief")], 1)
    assert orjson.loads(copy.value) == orjson.loads(event.data)
    assert text_headers(copy.headers)["ce_id"] == event.id
    assert text_headers(copy.headers)["content-type"] == "application/json"


async def test_a_body_too_large_for_kafka_is_413_not_503(hub_settings: Settings) -> None:
    """Found by a new user: a 3 MB submission got 503 with Retry-After (a Kafka outage, retry
    for ever) instead of 413."""
    body = orjson.dumps(submission(values={"bijlage": "x" * 3_000_000}))
    async with running_hub(hub_settings, _archive_config()) as (_hub, http):
        await wait_ready(http)
        answer = await http.post(
            "/api/v1/tenants/0363/submissions",
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert "retry-after" not in answer.headers


async def test_delivery_reads_payloads_as_i_json_too(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    """Found by a new user: on a destination topic, 2**53 + 1 and a member named twice were
    POSTed to the back office, while the router dead-letters the same payloads."""
    names, bootstrap = hub_settings.topics, hub_settings.kafka_bootstrap_servers
    config = hub_config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        [{"tenant": "0363", "contract": TYPE, "to": ["zaken"]}],
    )
    bad = [b"9007199254740993", b'"a", "kenteken": "b"']
    records = []
    for text in bad:
        event, key = _event()
        records.append((key, event.data.replace(b'"AB-123-C"', text), _headers(event)))
    last, last_key = _event()
    records.append((last_key, last.data, _headers(last)))
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        await _produce(bootstrap, names.destination("0363", "zaken"), records)
        dead = await read_topics(bootstrap, [names.dead_letter("0363")], len(bad))
        await until(lambda: bool(backoffice.accepted("zaken")))
    assert [r.body["id"] for r in backoffice.accepted("zaken") if r.body] == [last.id]
    assert sorted(text_headers(r.headers)["knooppunt_error_message"][:15] for r in dead) == [
        "values.kenteken",
        "values.kenteken",
    ]
