from __future__ import annotations

import re
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
        "ce_traceparent": b"00-05f09c67ee781c0d34e29c2cf2d0a842-6607fcc29eba592d-01",
        "content-type": b"application/json",
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
    full_width_oin = SOURCE.replace("00000001002564440000", "\uff10" * 20)
    with pytest.raises(ContractError, match="urn:nld:oin"):  # \d took any script's digits
        CloudEvent(id="1", source=full_width_oin, type="nl.a.b", tenant="0363", data=b"{}")


# The Kafka binding read strictly (issue 7: a bad header lost events; a bad traceparent blocked a
# partition). Every case is one record a hostile producer can write.


def _with(name: str, value: bytes | None) -> list[tuple[str, bytes | None]]:
    return [*_event().kafka_headers(), (name, value)]


@pytest.mark.parametrize("value", [b"\xc3\x28", None, b"\xff" * 5000])
def test_a_header_outside_the_event_never_matters(value: bytes | None) -> None:
    event = CloudEvent.from_kafka(_with("x-trace", value), b'{"a": 1}')
    assert event == _event()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ce_extra", b"\xc3\x28", "not UTF-8"),
        ("ce_extra", None, "without a value"),
        ("ce_Extra", b"x", "attribute name"),
        ("ce_extra-name", b"x", "attribute name"),
        ("ce_id", b"second", "twice"),
        ("ce_extra", b"line\nbreak", r"U\+000A"),
        ("ce_extra", "\ufffe".encode(), r"U\+FFFE"),
    ],
)
def test_a_broken_ce_header_is_a_contract_error_naming_it(
    name: str, value: bytes | None, message: str
) -> None:
    with pytest.raises(ContractError, match=message) as caught:
        CloudEvent.from_kafka(_with(name, value), b"{}")
    assert caught.value.field == name


@pytest.mark.parametrize(
    "time", [b"2026-11-29", b"2026-11-29T09:30:00", b"20261129T093000Z", b"2026-13-45T09:30:00Z"]
)
def test_time_must_be_rfc3339_with_an_offset(time: bytes) -> None:
    headers = [(k, time if k == "ce_time" else v) for k, v in _event().kafka_headers()]
    with pytest.raises(ContractError) as caught:
        CloudEvent.from_kafka(headers, b"{}")
    assert caught.value.field == "ce_time"


@pytest.mark.parametrize(
    "traceparent",
    [
        "00-caf\u00e9-b-01",
        "00-" + "a" * 5000 + "-b-01",
        "00-00000000000000000000000000000000-6607fcc29eba592d-01",
        "00-05F09C67EE781C0D34E29C2CF2D0A842-6607fcc29eba592d-01",
        "ff-05f09c67ee781c0d34e29c2cf2d0a842-6607fcc29eba592d-01",
    ],
)
def test_a_traceparent_not_of_the_w3c_form_is_dropped(traceparent: str) -> None:
    for header in ("ce_traceparent", "traceparent"):
        headers = [(k, v) for k, v in _event().kafka_headers() if k != "ce_traceparent"]
        event = CloudEvent.from_kafka([*headers, (header, traceparent.encode())], b"{}")
        assert event.traceparent is None


def test_extension_attributes_are_carried_through() -> None:
    event = CloudEvent.from_kafka(_with("ce_partitionkey", b"zaak-1"), b"{}")
    assert event.extensions == {"partitionkey": "zaak-1"}
    assert ("ce_partitionkey", b"zaak-1") in event.kafka_headers()


@pytest.mark.parametrize(
    ("member", "field"),
    [({"id": 7}, "id"), ({"time": "yesterday"}, "time"), ({"extra": {"a": 1}}, "extra")],
)
def test_structured_mode_attributes_follow_the_type_system(
    member: dict[str, object], field: str
) -> None:
    document = {
        "specversion": "1.0",
        "id": "b6e6c0e5",
        "source": SOURCE,
        "type": "nl.gemeente.formulier.ingediend",
        "tenant": "0363",
        "data": {"a": 1},
        **member,
    }
    with pytest.raises(ContractError) as caught:
        CloudEvent.from_kafka(
            [("content-type", b"application/cloudevents+json")], orjson.dumps(document)
        )
    assert caught.value.field == field


def test_a_payload_that_is_not_i_json_names_the_field() -> None:
    event = CloudEvent.from_kafka(
        _event().kafka_headers(), b'{"values": {"n": ' + b"9" * 400 + b"}}"
    )
    with pytest.raises(ContractError, match="RFC 7493") as caught:
        event.payload()
    assert caught.value.field == "values.n"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("abc\x00", "U+0000"),
        ("abc\x1f", "U+001F"),
        ("abc\x7f", "U+007F"),
        ("caf\xe9\x85", "U+0085"),
        ("caf\xe9\ufdd0", "U+FDD0"),
        ("x\uffff", "U+FFFF"),
        ("x\U0001fffe", "U+1FFFE"),
        ("x\U0010ffff", "U+10FFFF"),
    ],
)
def test_an_attribute_with_a_character_not_allowed_is_refused_ascii_or_not(
    text: str, code: str
) -> None:
    headers = [
        (name, text.encode() if name == "ce_subject" else value)
        for name, value in _event().kafka_headers()
    ]
    with pytest.raises(ContractError, match=re.escape(code)) as caught:
        CloudEvent.from_kafka(headers, b'{"a": 1}')
    assert caught.value.field == "ce_subject"


def test_non_ascii_attributes_without_such_characters_are_read() -> None:
    headers = [
        (name, "zaak-café-ü-\U0001f600".encode() if name == "ce_subject" else value)
        for name, value in _event().kafka_headers()
    ]
    assert CloudEvent.from_kafka(headers, b'{"a": 1}').subject == "zaak-café-ü-\U0001f600"
