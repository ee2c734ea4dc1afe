"""The objects-api sink against a real fake Objects API and Objecttypes API on loopback
(tests/fakes/objects_api.py): the shared conformance suite, then what it stores, how a
redelivery after a lost answer ends with one object, how each answer is classified, and which
mappings are refused at start."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from connectors.objects_api import SPEC as OBJECTS_API
from connectors.objects_api import ObjectsApiConfig, ObjectsApiSink
from connectors.objects_api.sink import build
from connectors.sdk import (
    ConnectorContext,
    Delivered,
    Delivery,
    Failure,
    Outcome,
    Permanent,
    Retryable,
    SecretMissingError,
    Secrets,
    TenantInfo,
    Throttled,
)
from connectors.sdk.conformance import SinkConformance
from contracts.cloudevents import source_urn
from contracts.errors import KnooppuntError
from contracts.events import build_event
from contracts.formulier import v1, v2
from contracts.registry import contract_for
from hub.delivery.history import idempotency_key
from tests.fakes.objects_api import TOKEN, FakeObjectsApi, running_objects_api
from tests.kafka_under_test import free_port

V1 = contract_for("nl.gemeente.formulier.ingediend", 1)
V2 = contract_for("nl.gemeente.formulier.ingediend", 2)
TOKEN_ENV = "KNOOPPUNT_OBJECTS_API_TOKEN"
ENVIRON = {TOKEN_ENV: TOKEN}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "kenteken": {"type": "string", "pattern": "^[A-Z0-9]{1,3}-[A-Z0-9]{1,3}-[A-Z0-9]{1,3}$"},
        "referentie": {"type": "string"},
        "formulier": {"type": "string"},
        "bron": {"type": "string"},
        "knooppuntId": {"type": "string"},
        "aanvrager": {
            "type": "object",
            "properties": {"bsn": {"type": "string"}, "soort": {"type": "string"}},
            "required": ["bsn"],
        },
        "locatie": {"type": "object"},
    },
    "required": ["kenteken", "referentie", "knooppuntId"],
    "additionalProperties": False,
}
MAPPING = {
    "kenteken": "values.kenteken",
    "referentie": "reference",
    "formulier": "form.id",
    "bron": {"constant": "knooppunt"},
}


@contextmanager
def _conformance_fake() -> Iterator[Any]:
    with running_objects_api() as api:
        yield api.conformance(api.add_objecttype(SCHEMA))


CONFORMANCE = SinkConformance(
    spec=OBJECTS_API,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "objects_api"),
        ({**OBJECTS_API.example, "objecttype_version": 0}, "objecttype_version"),
        ({**OBJECTS_API.example, "data": {"kenteken": "waarden.kenteken"}}, "data"),
        ({**OBJECTS_API.example, "idempotency_field": "referentie__x"}, "idempotency_field"),
        ({**OBJECTS_API.example, "token_env": "a token"}, "token_env"),
    ],
    environ=ENVIRON,
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


@pytest.fixture
def api() -> Iterator[FakeObjectsApi]:
    with running_objects_api() as fake:
        yield fake


def _delivery(
    contract: Any = V2,
    payload: dict[str, Any] | None = None,
    attempt: int = 1,
    event_id: str = "b6e6c0e5-f93b-511d-b645-64ef99eee849",
) -> Delivery:
    event, _ = build_event(
        contract,
        payload or contract.example,
        tenant="0363",
        source=source_urn("00000001002564440000", "test"),
        event_id=event_id,
        time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    )
    return Delivery(event, "0363", "objecten", idempotency_key(event, "objecten"), attempt)


def _sink(
    api: FakeObjectsApi,
    objecttype: str,
    environ: dict[str, str] | None = None,
    **settings: Any,
) -> ObjectsApiSink:
    config = ObjectsApiConfig.model_validate(
        {
            "objects_api": api.objects_api,
            "objecttype": objecttype,
            "objecttype_version": 1,
            "token_env": TOKEN_ENV,
            "data": MAPPING,
            "idempotency_field": "knooppuntId",
            **settings,
        }
    )
    context = ConnectorContext(
        TenantInfo("0363", "00000001002564440000", "002564440"),
        "objecten",
        "objects-api",
        secrets=Secrets(ENVIRON if environ is None else environ),
    )
    return build(config, context)


async def _opened(api: FakeObjectsApi, **settings: Any) -> ObjectsApiSink:
    sink = _sink(api, api.add_objecttype(SCHEMA), **settings)
    await sink.open()
    return sink


def _failed(outcome: Outcome) -> Failure:
    assert not isinstance(outcome, Delivered), f"delivered: {outcome}"
    return outcome


def _delivered(outcome: Outcome) -> Delivered:
    assert isinstance(outcome, Delivered), f"not delivered: {outcome}"
    return outcome


async def test_the_object_holds_the_mapped_record(api: FakeObjectsApi) -> None:
    sink = await _opened(api)
    delivery = _delivery()
    delivered = _delivered(await sink.deliver(delivery))
    await sink.close()

    [stored] = api.stored()
    assert stored["type"] == sink.config.objecttype.unicode_string()
    assert stored["record"]["typeVersion"] == 1
    assert stored["record"]["startAt"] == "2026-11-29"  # submitted 10:15 +01:00
    assert stored["record"]["geometry"] is None
    assert stored["record"]["data"] == {
        "kenteken": "AB-123-C",
        "referentie": "OF-7TZ2QX",
        "formulier": "parkeervergunning",
        "bron": "knooppunt",
        "knooppuntId": delivery.step_key("object"),
    }
    assert delivered.references == {"object": stored["url"]}
    [create] = api.received("POST")
    assert create.headers["authorization"] == f"Token {TOKEN}"
    assert create.headers["content-crs"] == "EPSG:4326"
    assert create.headers["content-type"] == "application/json"


async def test_v1_and_v2_submissions_make_the_same_record(api: FakeObjectsApi) -> None:
    mapping = {**MAPPING, "aanvrager.bsn": "authentication.legal_subject.value"}
    sink = await _opened(api, data=mapping)
    second_id = "c6e6c0e5-f93b-511d-b645-64ef99eee849"
    outcomes = [
        await sink.deliver(_delivery(V1)),
        await sink.deliver(_delivery(V2, event_id=second_id)),
    ]
    await sink.close()
    assert all(isinstance(o, Delivered) for o in outcomes), outcomes
    first, second = (o["record"]["data"] for o in api.stored())
    assert first.pop("knooppuntId") != second.pop("knooppuntId")  # two events, two step keys
    assert first == second
    assert first["aanvrager"] == {"bsn": v1.EXAMPLE["authentication"]["bsn"]}  # type: ignore[index]


async def test_the_start_date_is_the_dutch_day_of_submission(api: FakeObjectsApi) -> None:
    late = {**v2.EXAMPLE, "submitted_at": "2026-12-31T23:30:00+00:00"}  # 00:30 in Amsterdam
    sink = await _opened(api)
    _delivered(await sink.deliver(_delivery(V2, late)))
    await sink.close()
    assert api.stored()[0]["record"]["startAt"] == "2027-01-01"


async def test_a_geometry_from_the_submission_is_the_records(api: FakeObjectsApi) -> None:
    point = {"type": "Point", "coordinates": [4.8897, 52.3731]}
    payload = {**v2.EXAMPLE, "values": {**v2.EXAMPLE["values"], "locatie": point}}
    sink = await _opened(api, geometry="values.locatie")
    _delivered(await sink.deliver(_delivery(V2, payload)))
    await sink.close()
    assert api.stored()[0]["record"]["geometry"] == point


async def test_a_geometry_that_is_no_geojson_is_permanent(api: FakeObjectsApi) -> None:
    payload = {**v2.EXAMPLE, "values": {**v2.EXAMPLE["values"], "locatie": "Dam 1"}}
    sink = await _opened(api, geometry="values.locatie")
    failure = _failed(await sink.deliver(_delivery(V2, payload)))
    await sink.close()
    assert failure == Permanent("geometry: values.locatie is not a GeoJSON geometry")
    assert api.received("POST") == []


@pytest.mark.parametrize(
    "interruption",
    [
        {"status": 502, "after_handling": True},  # stored, the answer lost at a gateway
        {"status": 201, "after_handling": True, "delay_s": 1.0},  # stored, answered too late
    ],
)
async def test_an_interrupted_create_redelivered_ends_with_one_object(
    api: FakeObjectsApi, interruption: dict[str, Any]
) -> None:
    sink = await _opened(api, timeout_s=0.3)
    api.script(**interruption)
    first = _failed(await sink.deliver(_delivery()))
    again = _delivered(await sink.deliver(_delivery(attempt=2)))
    replayed = _delivered(await sink.deliver(_delivery(attempt=1)))  # a dlq replay
    await sink.close()
    assert isinstance(first, Retryable)
    [stored] = api.stored()
    assert again.references == replayed.references == {"object": stored["url"]}
    assert len(api.received("POST")) == 1  # the redeliveries found it, and created nothing


async def test_progress_from_an_earlier_attempt_is_delivered_without_asking(
    api: FakeObjectsApi,
) -> None:
    sink = await _opened(api)
    made = f"{api.objects_api}/objects/5f0c6d1e-0000-4000-8000-000000000001"
    delivery = dataclasses.replace(_delivery(), progress={"object": made})
    delivered = _delivered(await sink.deliver(delivery))
    await sink.close()
    assert delivered.references == {"object": made}
    assert api.received("POST") == api.received("GET")[1:] == []  # only open's schema fetch


async def test_another_submission_makes_another_object(api: FakeObjectsApi) -> None:
    other = {**v2.EXAMPLE, "submission_id": "6f0c6d1e-3d0e-4c52-9a57-0c4a2b1e7f11"}
    sink = await _opened(api)
    _delivered(await sink.deliver(_delivery()))
    _delivered(await sink.deliver(_delivery(V2, other, event_id=str(uuid.uuid4()))))
    await sink.close()
    keys = [o["record"]["data"]["knooppuntId"] for o in api.stored()]
    assert len(keys) == len(set(keys)) == 2


async def test_a_submission_that_does_not_fit_is_permanent_naming_the_field_not_the_value(
    api: FakeObjectsApi,
) -> None:
    payload = {**v2.EXAMPLE, "values": {**v2.EXAMPLE["values"], "kenteken": "niet-een-kenteken"}}
    sink = await _opened(api)
    failure = _failed(await sink.deliver(_delivery(V2, payload)))
    missing = {**v2.EXAMPLE, "values": {"naam": "Jan de Vries"}}
    no_kenteken = _failed(await sink.deliver(_delivery(V2, missing)))
    await sink.close()
    assert failure == Permanent(
        "the submission does not fit objecttype version 1: "
        "data.kenteken: does not fit the schema (pattern)"
    )
    assert no_kenteken == Permanent(
        "the submission does not fit objecttype version 1: "
        "data.kenteken: required, and the submission has no value for it"
    )
    assert api.received("POST") == []  # nothing sent that the API would refuse


async def test_a_refusal_by_the_api_is_permanent_with_the_refused_fields(
    api: FakeObjectsApi,
) -> None:
    objecttype = api.add_objecttype(SCHEMA)
    sink = _sink(api, objecttype)
    await sink.open()
    # The version changed after the start (a draft edited): the API now refuses the data.
    api.set_schema(objecttype, 1, {**SCHEMA, "required": [*SCHEMA["required"], "aanvrager"]})
    failure = _failed(await sink.deliver(_delivery()))
    await sink.close()
    [refused] = api.received("POST")
    assert refused.status == 400
    assert failure == Permanent(
        "HTTP 400 Bad Request: the back office rejects it (nonFieldErrors: invalid-json-schema)",
        code="400",
    )
    assert api.stored() == []


async def test_a_wrong_token_is_refused_at_start_and_permanent_later(
    api: FakeObjectsApi,
) -> None:
    objecttype = api.add_objecttype(SCHEMA)
    refused = _sink(api, objecttype, {TOKEN_ENV: "not-the-token"})
    with pytest.raises(KnooppuntError) as caught:
        await refused.open()
    await refused.close()
    assert str(caught.value) == (
        f"tenant 0363, destination objecten: objecttype: {objecttype}/versions/1: "
        "answered HTTP 401 Unauthorized"
    )
    sink = await _opened(api)
    api.token = "rotated"
    failure = _failed(await sink.deliver(_delivery()))
    await sink.close()
    assert isinstance(failure, Permanent)
    assert failure.code == "401"


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (503, "GET", Retryable("HTTP 503 Service Unavailable", code="503")),
        (500, "POST", Retryable("HTTP 500 Internal Server Error", code="500")),
        (
            429,
            "POST",
            Throttled(retry_after_s=30.0, code="429", reason="HTTP 429 Too Many Requests"),
        ),
        (403, "POST", Permanent("HTTP 403 Forbidden: the back office rejects it", code="403")),
    ],
)
async def test_answers_are_classified(
    api: FakeObjectsApi, status: int, method: Any, expected: Failure
) -> None:
    sink = await _opened(api)
    api.script(status, method=method, retry_after="30" if status == 429 else None)
    failure = _failed(await sink.deliver(_delivery()))
    recovered = await sink.deliver(_delivery(attempt=2))
    await sink.close()
    assert failure == expected
    assert isinstance(recovered, Delivered)
    assert len(api.stored()) == 1


async def test_an_api_gone_after_the_start_is_retryable() -> None:
    with running_objects_api() as api:
        sink = await _opened(api)
    failure = _failed(await sink.deliver(_delivery()))  # nobody listens any more
    await sink.close()
    assert isinstance(failure, Retryable)
    assert failure.code is None


async def test_a_slow_api_is_a_retryable_timeout(api: FakeObjectsApi) -> None:
    sink = await _opened(api, timeout_s=0.2)
    api.script(200, method="GET", after_handling=True, delay_s=1.0)
    failure = _failed(await sink.deliver(_delivery()))
    await sink.close()
    assert isinstance(failure, Retryable)
    assert failure.code is None
    assert failure.reason.startswith("timeout after 0.2 s")


async def test_an_unreachable_objecttypes_api_refuses_the_start() -> None:
    closed = free_port()
    with running_objects_api() as api:
        sink = _sink(api, f"http://127.0.0.1:{closed}/objecttypes/api/v2/objecttypes/x")
        with pytest.raises(KnooppuntError) as caught:
            await sink.open()
        await sink.close()
    assert str(caught.value).startswith(
        f"tenant 0363, destination objecten: objecttype: http://127.0.0.1:{closed}/"
    )
    assert "no answer (connection refused" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (
            {"data": {**MAPPING, "kentekn": "values.kenteken"}},
            "data.kentekn: the schema has no such field",
        ),
        (
            {"data": {"kenteken": "values.kenteken", "formulier": "form.id"}},
            "data.referentie: required by the schema, not mapped",
        ),
        (
            {"data": {**MAPPING, "aanvrager.soort": {"constant": "burger"}}},
            "data.aanvrager.bsn: required by the schema, not mapped",
        ),
        (
            {"idempotency_field": "kenmerk"},
            "idempotency_field: the schema has no field 'kenmerk'; "
            "data.knooppuntId: required by the schema, not mapped",
        ),
        (
            {"idempotency_field": "locatie"},
            "idempotency_field: 'locatie' does not take a string; "
            "data.knooppuntId: required by the schema, not mapped",
        ),
    ],
)
async def test_a_mapping_that_does_not_fit_the_schema_refuses_the_start(
    api: FakeObjectsApi, settings: dict[str, Any], problem: str
) -> None:
    sink = _sink(api, api.add_objecttype(SCHEMA), **settings)
    with pytest.raises(KnooppuntError) as caught:
        await sink.open()
    await sink.close()
    assert str(caught.value) == (
        f"tenant 0363, destination objecten: {problem} (objecttype version 1)"
    )


async def test_an_unknown_version_refuses_the_start(api: FakeObjectsApi) -> None:
    objecttype = api.add_objecttype(SCHEMA)
    sink = _sink(api, objecttype, objecttype_version=2)
    with pytest.raises(KnooppuntError) as caught:
        await sink.open()
    await sink.close()
    assert str(caught.value).endswith(f"{objecttype}/versions/2: answered HTTP 404 Not Found")


async def test_an_invalid_json_schema_refuses_the_start(api: FakeObjectsApi) -> None:
    sink = _sink(api, api.add_objecttype({"type": "object", "required": "kenteken"}))
    with pytest.raises(KnooppuntError) as caught:
        await sink.open()
    await sink.close()
    assert "is not a valid JSON Schema (at required)" in str(caught.value)


async def test_a_missing_token_refuses_the_start_naming_the_setting(api: FakeObjectsApi) -> None:
    sink = _sink(api, api.add_objecttype(SCHEMA), {}, objecttypes_token_env="OBJECTTYPES_TOKEN")
    with pytest.raises(SecretMissingError) as caught:
        await sink.open()
    await sink.close()
    assert str(caught.value) == (
        f"tenant 0363, destination objecten: token_env: environment variable {TOKEN_ENV} is not set"
    )
    assert api.received() == []


async def test_a_token_gone_after_the_start_is_permanent(api: FakeObjectsApi) -> None:
    environ = dict(ENVIRON)
    sink = _sink(api, api.add_objecttype(SCHEMA), environ)
    await sink.open()
    del environ[TOKEN_ENV]
    failure = _failed(await sink.deliver(_delivery()))
    await sink.close()
    assert failure == Permanent(f"environment variable {TOKEN_ENV} is not set (token_env)")


async def test_delivering_logs_nothing(api: FakeObjectsApi) -> None:
    sink = await _opened(api)
    with capture_logs() as logs:
        _delivered(await sink.deliver(_delivery()))
        payload = {**v2.EXAMPLE, "values": {**v2.EXAMPLE["values"], "kenteken": "x"}}
        failure = _failed(await sink.deliver(_delivery(V2, payload)))
    await sink.close()
    assert logs == []
    assert "999993653" not in str(failure)
    assert "'x'" not in str(failure)


async def test_check_says_whether_the_api_answers(api: FakeObjectsApi) -> None:
    sink = await _opened(api)
    healthy = await sink.check()
    api.token = "rotated"
    refused = await sink.check()
    await sink.close()
    assert healthy.ok
    assert not refused.ok
    assert "HTTP 401" in refused.detail


async def test_the_fake_refuses_what_the_real_api_refuses(api: FakeObjectsApi) -> None:
    objecttype = api.add_objecttype(SCHEMA)
    good = {
        "type": objecttype,
        "record": {
            "typeVersion": 1,
            "data": {"kenteken": "AB-123-C", "referentie": "R", "knooppuntId": "k"},
            "startAt": "2026-11-29",
        },
    }
    auth = {"Authorization": f"Token {TOKEN}"}
    crs = {**auth, "Content-Crs": "EPSG:4326"}
    async with httpx.AsyncClient(base_url=api.objects_api) as client:
        no_token = await client.post("/objects", json=good, headers={"Content-Crs": "EPSG:4326"})
        no_crs = await client.post("/objects", json=good, headers=auth)
        other_crs = await client.post(
            "/objects", json=good, headers={**auth, "Content-Crs": "EPSG:28992"}
        )
        no_start = await client.post(
            "/objects", json={**good, "record": {"typeVersion": 1, "data": {}}}, headers=crs
        )
        bad_data = await client.post(
            "/objects",
            json={**good, "record": {**good["record"], "data": {"kenteken": 1}}},  # type: ignore[dict-item]
            headers=crs,
        )
        created = await client.post("/objects", json=good, headers=crs)
        listed = await client.get(
            "/objects",
            params={"type": objecttype, "data_attr": "knooppuntId__exact__k"},
            headers=auth,
        )
    assert [r.status_code for r in (no_token, no_crs, other_crs, no_start, bad_data, created)] == [
        401,
        412,
        406,
        400,
        400,
        201,
    ]
    assert [p["name"] for p in no_start.json()["invalidParams"]] == ["record.startAt"]
    assert bad_data.json()["invalidParams"][0]["code"] == "invalid-json-schema"
    assert listed.json()["count"] == 1
    assert listed.json()["results"][0]["url"] == created.json()["url"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"objects_api": "not a url"}, "objects_api"),
        ({"objects_api": "https://u:p@objecten.example/api/v2"}, "objects_api"),
        ({"objecttype_version": 40000}, "objecttype_version"),
        ({"data": {}}, "data"),
        ({"data": {"a__b": "reference"}}, "data"),
        ({"data": {"a": "reference", "a.b": "form.id"}}, "data"),
        ({"data": {"a": {"constant": 1, "extra": 2}}}, "data"),
        ({"idempotency_field": "kenteken"}, "idempotency_field"),
        ({"geometry": "locatie"}, "geometry"),
        ({"lookup_parameter": "data_icontains"}, "lookup_parameter"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"retries": 3}, "retries"),
    ],
)
def test_config_mistakes_name_the_field(settings: dict[str, Any], field: str) -> None:
    example = {**OBJECTS_API.example, "data": {"kenteken": "values.kenteken"}}
    with pytest.raises(ValidationError) as caught:
        ObjectsApiConfig.model_validate({**example, **settings})
    assert {error["loc"][0] for error in caught.value.errors()} == {field}


def test_the_connector_declares_itself_for_submissions() -> None:
    assert (OBJECTS_API.name, OBJECTS_API.kind, OBJECTS_API.config) == (
        "objects-api",
        "sink",
        ObjectsApiConfig,
    )
    assert OBJECTS_API.accepts_contract("nl.gemeente.formulier.ingediend")
    assert not OBJECTS_API.accepts_contract("nl.gemeente.brp.persoon-gewijzigd")
