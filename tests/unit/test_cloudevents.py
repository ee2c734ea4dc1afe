from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from contracts.cloudevents import CloudEvent, source_urn
from hub.errors import ContractError

SOURCE = source_urn("00000001002564440000", "open-formulieren")


def _event() -> CloudEvent:
    return CloudEvent(
        id="b6e6c0e5",
        source=SOURCE,
        type="nl.gemeente.formulier.ingediend",
        tenant="0363",
        subject="6f42d63a",
        time=datetime(2026, 11, 29, 9, 30, tzinfo=UTC),
        dataschema="urn:nld:knooppunt:schema:nl.gemeente.formulier.ingediend:v1",
        data=b'{"a": 1}',
        traceparent="00-05f09c67ee781c0d34e29c2cf2d0a842-6607fcc29eba592d-01",
    )


def test_binary_mode_headers_follow_the_kafka_binding() -> None:
    headers = dict(_event().kafka_headers())
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": b"b6e6c0e5",
        "ce_source": b"urn:nld:oin:00000001002564440000:systeem:open-formulieren",
        "ce_type": b"nl.gemeente.formulier.ingediend",
        "ce_time": b"2026-11-29T09:30:00+00:00",
        "ce_subject": b"6f42d63a",
        "ce_dataschema": b"urn:nld:knooppunt:schema:nl.gemeente.formulier.ingediend:v1",
        "ce_tenant": b"0363",
        "content-type": b"application/json",
        "traceparent": b"00-05f09c67ee781c0d34e29c2cf2d0a842-6607fcc29eba592d-01",
    }


def test_binary_mode_round_trip() -> None:
    event = _event()
    assert CloudEvent.from_kafka(event.kafka_headers(), event.data) == event


def test_structured_mode_is_read_too() -> None:
    document = {
        "specversion": "1.0",
        "id": "b6e6c0e5",
        "source": SOURCE,
        "type": "nl.gemeente.formulier.ingediend",
        "tenant": "0363",
        "time": "2026-11-29T09:30:00+00:00",
        "data": {"a": 1},
    }
    event = CloudEvent.from_kafka(
        [("content-type", b"application/cloudevents+json")], orjson.dumps(document)
    )
    assert (event.id, event.tenant, event.payload()) == ("b6e6c0e5", "0363", {"a": 1})


@pytest.mark.parametrize("missing", ["ce_id", "ce_source", "ce_type", "ce_tenant"])
def test_a_missing_attribute_is_named(missing: str) -> None:
    headers = [(k, v) for k, v in _event().kafka_headers() if k != missing]
    with pytest.raises(ContractError) as caught:
        CloudEvent.from_kafka(headers, b"{}")
    assert caught.value.field == missing


def test_nl_gov_profile_rules_on_type_and_source() -> None:
    with pytest.raises(ContractError, match="reverse-DNS"):
        CloudEvent(id="1", source=SOURCE, type="FormSubmitted", tenant="0363", data=b"{}")
    with pytest.raises(ContractError, match="urn:nld:oin"):
        CloudEvent(id="1", source="https://example.org", type="nl.a.b", tenant="0363", data=b"{}")
