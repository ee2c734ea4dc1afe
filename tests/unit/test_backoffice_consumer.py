"""The example back office's decisions (examples/backoffice_consumer), without Kafka."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from examples.backoffice_consumer import EventStore, NotAnEvent, Schemas, read_event
from examples.backoffice_consumer.consumer import tenant_of_topic
from tests.samples import VALID_BSN, submission

SCHEMAS = Path(__file__).resolve().parents[2] / "contracts" / "schemas"
V1 = "urn:nld:knooppunt:schema:nl.gemeente.formulier.ingediend:v1"


def headers(**overrides: str | None) -> list[tuple[str, bytes | None]]:
    attributes: dict[str, str | None] = {
        "specversion": "1.0",
        "id": "e1",
        "source": "urn:nld:oin:00000001003630000000:systeem:eformulieren",
        "type": "nl.gemeente.formulier.ingediend",
        "tenant": "0363",
        "dataschema": V1,
        "subject": "sub-1",
    }
    attributes.update(overrides)
    pairs: list[tuple[str, bytes | None]] = [
        (f"ce_{name}", None if value is None else value.encode())
        for name, value in attributes.items()
        if value != ""
    ]
    return [*pairs, ("content-type", b"application/json"), ("knooppunt_attempts", b"1")]


def value(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(SCHEMAS)


def test_a_valid_submission_is_read_and_passes_its_schema(schemas: Schemas) -> None:
    event = read_event(headers(), value(submission("aanvraag")))
    schemas.check(event)
    assert (event.source, event.id, event.tenant, event.version) == (
        "urn:nld:oin:00000001003630000000:systeem:eformulieren",
        "e1",
        "0363",
        1,
    )
    assert event.data["form"]["id"] == "aanvraag"


@pytest.mark.parametrize(
    ("record_headers", "reason"),
    [
        (headers(id=""), "missing header(s): ce_id"),
        (headers(tenant="", dataschema=""), "missing header(s): ce_tenant, ce_dataschema"),
        (headers(source=None), "header ce_source has no value"),
        (headers(specversion="0.3"), "ce_specversion is not 1.0"),
        ([*headers(), ("ce_id", b"e2")], "header ce_id given twice"),
        ([("ce_type", b"\xff"), *headers()], "header ce_type is not UTF-8"),
    ],
)
def test_a_record_without_proper_headers_is_not_an_event(
    record_headers: list[tuple[str, bytes | None]], reason: str
) -> None:
    with pytest.raises(NotAnEvent) as caught:
        read_event(record_headers, value(submission()))
    assert caught.value.reason == reason


@pytest.mark.parametrize("raw", [b"", b"{not json", b'{"a": NaN}'])
def test_a_value_that_is_not_json_is_not_an_event(raw: bytes) -> None:
    with pytest.raises(NotAnEvent, match="the value is not JSON"):
        read_event(headers(), raw)


def test_the_schema_is_chosen_by_dataschema_and_the_reason_names_no_value(
    schemas: Schemas,
) -> None:
    # A BSN as a number: jsonschema's own message would quote it.
    body = submission(authentication={"method": "digid", "bsn": int(VALID_BSN)})
    with pytest.raises(NotAnEvent) as caught:
        schemas.check(read_event(headers(), value(body)))
    assert caught.value.reason.startswith(f"payload does not match {V1}: $.authentication.bsn")
    assert VALID_BSN not in caught.value.reason
    # The same v1 body under v2's schema is not valid: the file follows ce_dataschema.
    with pytest.raises(NotAnEvent, match="does not match"):
        schemas.check(read_event(headers(dataschema=V1[:-1] + "2"), value(submission())))


def test_unknown_schema_versions_and_foreign_types_are_refused(schemas: Schemas) -> None:
    with pytest.raises(NotAnEvent, match="no schema for ce_dataschema"):
        schemas.check(read_event(headers(dataschema=V1[:-1] + "9"), value(submission())))
    with pytest.raises(NotAnEvent, match="is not of ce_dataschema's type"):
        schemas.check(read_event(headers(type="nl.overheid.zaken"), value(submission())))


def test_an_optional_field_added_within_the_major_is_accepted(schemas: Schemas) -> None:
    newer = submission() | {"channel": "web"}  # not in v1.json: the hub may add one later
    schemas.check(read_event(headers(), value(newer)))
    with pytest.raises(NotAnEvent, match=r"\$ \(required\)"):
        schemas.check(read_event(headers(), value({"submission_id": "x"})))


def test_the_store_keeps_an_event_once_by_source_and_id(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.db")
    event = read_event(headers(), value(submission()))
    again = read_event(headers(subject="sub-2"), value(submission()))
    other_source = read_event(headers(source=event.source + "2"), value(submission()))
    try:
        assert store.keep(event, ("t", 0, 1)) is True
        assert store.keep(again, ("t", 0, 2)) is False  # same source and id: a redelivery
        assert store.keep(other_source, ("t", 0, 3)) is True
    finally:
        store.close()
    reopened = EventStore(tmp_path / "events.db")  # recognised after a restart too
    try:
        assert reopened.keep(event, ("t", 0, 1)) is False
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("topic", "tenant"),
    [
        ("knooppunt.deliver.0363.zaaksysteem", "0363"),
        ("acc.knooppunt.deliver.0599.archief", "0599"),
        ("knooppunt.dlq.0363", None),
        ("xknooppunt.deliver.0363.zaken", None),
    ],
)
def test_the_tenant_is_read_from_the_destination_topic(topic: str, tenant: str | None) -> None:
    assert tenant_of_topic(topic) == tenant
