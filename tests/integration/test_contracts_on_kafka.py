"""Contracts on a real broker: the Kafka protocol binding, v1 -> v2 upcasting, no personal data
outside payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson
import pytest
from faststream.kafka import KafkaBroker

from contracts.cloudevents import CloudEvent, source_urn
from contracts.events import build_event, read_as
from contracts.formulier import v1, v2
from contracts.registry import CONTRACTS, contract_for
from hub.errors import ContractError
from hub.kafka.admin import ensure_topics
from hub.kafka.publishing import send_event
from hub.kafka.topics import TopicNames
from tests.kafka_reading import read_topics
from tests.kafka_under_test import KafkaUnderTest

pytestmark = pytest.mark.kafka
SOURCE = source_urn("00000001002564440000", "open-formulieren")
V1 = contract_for("nl.gemeente.formulier.ingediend", 1)
V2 = contract_for("nl.gemeente.formulier.ingediend", 2)


async def publish_contract_event(
    broker: KafkaBroker,
    names: TopicNames,
    spec: Any,
    payload: object,
    *,
    tenant: str,
    source: str,
) -> tuple[CloudEvent, Any]:
    """Build ``payload`` as an event of ``spec`` (ContractError: nothing sent) and publish it
    on its contract topic, as the hub's publisher does."""
    event, key = build_event(spec, payload, tenant=tenant, source=source)
    return event, await send_event(broker, names.contract(spec), event, key)


# Personal data that the examples carry in their payloads, and that must appear nowhere else.
PERSONAL = ["999993653", "Jan de Vries", "jan.devries@example.nl", "Dam 1", "68750110"]


@pytest.fixture
async def producer(kafka: KafkaUnderTest, prefix: str) -> AsyncIterator[KafkaBroker]:
    names = TopicNames(prefix)
    await ensure_topics(kafka.bootstrap, [names.contract(s) for s in CONTRACTS], partitions=3)
    broker = KafkaBroker(kafka.bootstrap, acks="all", enable_idempotence=True)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()


def _with_kvk(payload: dict[str, Any]) -> dict[str, Any]:
    auth = {"method": "eherkenning", "level_of_assurance": "loa3", "kvk": "68750110"}
    return {
        **payload,
        "submission_id": "0d7e2a4b-1c3f-4e5a-9b8c-7d6e5f4a3b2c",
        "authentication": auth,
    }


async def test_a_v1_producer_and_a_v2_consumer_on_a_real_broker(
    producer: KafkaBroker, kafka: KafkaUnderTest, prefix: str
) -> None:
    names = TopicNames(prefix)
    sent = [
        await publish_contract_event(producer, names, V1, v1.EXAMPLE, tenant="0363", source=SOURCE),
        await publish_contract_event(
            producer, names, V1, _with_kvk(v1.EXAMPLE), tenant="0599", source=SOURCE
        ),
        await publish_contract_event(producer, names, V2, v2.EXAMPLE, tenant="0363", source=SOURCE),
    ]
    records = await read_topics(kafka.bootstrap, [names.contract(V1), names.contract(V2)], 3)
    assert len(records) == 3

    # The consumer was written for v2: it reads both topics and gets v2 models only.
    by_id = {}
    for record in records:
        event = CloudEvent.from_kafka(record.headers, record.value)
        by_id[event.id] = read_as(event, V2, record.topic)
    assert all(isinstance(model, v2.FormulierIngediend) for model in by_id.values())
    company = by_id[sent[1][0].id]
    assert isinstance(company, v2.FormulierIngediend)
    assert company.authentication.legal_subject is not None
    assert company.authentication.legal_subject.type == "kvk"
    assert company.authentication.level_of_assurance == "urn:etoegang:core:assurance-class:loa3"

    # The raw records follow the CloudEvents Kafka protocol binding (binary mode).
    first = next(r for r in records if dict(r.headers)["ce_id"].decode() == sent[0][0].id)
    headers = {name: value.decode() for name, value in first.headers}
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "nl.gemeente.formulier.ingediend"
    assert headers["ce_source"] == SOURCE
    assert headers["ce_subject"] == v1.EXAMPLE["submission_id"]
    assert headers["ce_dataschema"] == "urn:nld:knooppunt:schema:nl.gemeente.formulier.ingediend:v1"
    assert headers["ce_tenant"] == "0363"
    assert headers["content-type"] == "application/json"
    assert datetime.fromisoformat(headers["ce_time"]).tzinfo is not None
    assert first.key == f"0363:{v1.EXAMPLE['submission_id']}".encode()
    assert orjson.loads(first.value)["reference"] == "OF-7TZ2QX"  # the payload is the data itself


async def test_an_invalid_event_is_refused_before_it_reaches_kafka(
    producer: KafkaBroker, kafka: KafkaUnderTest, prefix: str
) -> None:
    names = TopicNames(prefix)
    bad = {**v1.EXAMPLE, "authentication": {"method": "digid", "bsn": "123456789"}}
    with pytest.raises(ContractError) as caught:
        await publish_contract_event(producer, names, V1, bad, tenant="0363", source=SOURCE)
    assert caught.value.field == "authentication.bsn"
    assert await read_topics(kafka.bootstrap, [names.contract(V1)], 0, 2.0, 0.5) == []


async def test_no_personal_data_in_any_key_or_header_of_any_contract(
    producer: KafkaBroker, kafka: KafkaUnderTest, prefix: str
) -> None:
    names = TopicNames(prefix)
    for spec in CONTRACTS:
        example = _with_kvk(spec.example) if spec is V1 else spec.example
        await publish_contract_event(producer, names, spec, example, tenant="0363", source=SOURCE)
    records = await read_topics(
        kafka.bootstrap, [names.contract(s) for s in CONTRACTS], len(CONTRACTS)
    )
    assert len(records) == len(CONTRACTS)
    outside_payloads = b"\n".join(
        record.key + b"".join(name.encode() + b"=" + value for name, value in record.headers)
        for record in records
    ).decode()
    payloads = b"\n".join(record.value for record in records).decode()
    for personal in PERSONAL:
        assert personal in payloads  # the scan looks for data that is really there
        assert personal not in outside_payloads
