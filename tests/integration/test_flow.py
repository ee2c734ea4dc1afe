"""The first real flow, in one process on a real broker: HTTP intake -> contract topic -> router ->
destination topics."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from contracts.registry import CONTRACTS
from hub.config import HubConfig
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.integration.helpers import metric_value, wait_ready
from tests.kafka_reading import produce_raw, read_topics
from tests.samples import INVALID_BSN, VALID_BSN, submission

pytestmark = pytest.mark.kafka
AUTH = {"Authorization": f"Bearer {demo_token()}"}
TYPE = "nl.gemeente.formulier.ingediend"


def _destination_topics(settings: Settings, config: HubConfig) -> list[str]:
    return [
        settings.topics.destination(t.id, d.name) for t in config.tenants for d in t.destinations
    ]


async def test_a_submission_reaches_exactly_its_destination_topics(
    hub_settings: Settings, demo_config: HubConfig
) -> None:
    body = submission("parkeervergunning")
    async with running_hub(hub_settings, demo_config) as (_hub, http):
        await wait_ready(http)
        answer = await http.post("/api/v1/tenants/0363/submissions", json=body, headers=AUTH)
        assert answer.status_code == 202, answer.text
        accepted = answer.json()
        records = await read_topics(
            hub_settings.kafka_bootstrap_servers, _destination_topics(hub_settings, demo_config), 2
        )
    names = hub_settings.topics
    assert accepted["topic"] == f"{hub_settings.topic_prefix}{TYPE}.v1"
    assert sorted(r.topic for r in records) == [
        names.destination("0363", "archief"),
        names.destination("0363", "parkeren"),
    ]
    for record in records:
        headers = dict(record.headers)
        assert headers["ce_id"].decode() == accepted["id"]
        assert headers["ce_type"] == TYPE.encode()
        assert headers["ce_tenant"] == b"0363"
        assert headers["ce_subject"].decode() == body["submission_id"]
        assert headers["ce_source"] == (
            b"urn:nld:oin:00000001002564440000:systeem:demo-eformulieren"
        )
        assert record.key == f"0363:{body['submission_id']}".encode()
        assert orjson.loads(record.value)["form"]["id"] == "parkeervergunning"
        exposed = record.key + b"".join(k.encode() + v for k, v in record.headers)
        assert VALID_BSN.encode() not in exposed


async def test_the_same_submission_sent_again_is_one_event_and_other_content_is_refused(
    hub_settings: Settings, demo_config: HubConfig
) -> None:
    """Issue 8: the same submission posted three times was published three times (offsets 3,
    4, 5) and routed three times; the same submission_id with other values was accepted too."""
    body = submission("bezwaar-woz")
    changed = {**body, "values": {**body["values"], "kenteken": "ZZ-999-Z"}}
    url = "/api/v1/tenants/0599/submissions"
    async with running_hub(hub_settings, demo_config) as (_hub, http):
        first = await http.post(url, json=body, headers=AUTH)
        resent = await asyncio.gather(*(http.post(url, json=body, headers=AUTH) for _ in range(3)))
        conflicting = await http.post(url, json=changed, headers=AUTH)
        contract_topic = f"{hub_settings.topic_prefix}{TYPE}.v1"
        on_kafka = await read_topics(
            hub_settings.kafka_bootstrap_servers, [contract_topic], 1, settle_s=2.0
        )
        copies = await read_topics(
            hub_settings.kafka_bootstrap_servers, _destination_topics(hub_settings, demo_config), 1
        )
    assert first.status_code == 202, first.text
    assert [answer.json() for answer in resent] == [first.json()] * 3
    assert conflicting.status_code == 422
    problem = await _problem(conflicting)
    assert problem["code"] == "idempotency_conflict"
    assert first.json()["id"] in problem["detail"]
    assert len(on_kafka) == 1
    assert len(copies) == 1


async def test_unrouted_events_are_counted_not_dropped_silently(
    hub_settings: Settings, demo_config: HubConfig
) -> None:
    async with running_hub(hub_settings, demo_config) as (_hub, http):
        await wait_ready(http)
        body = submission("formulier-zonder-route")
        answer = await http.post("/api/v1/tenants/0363/submissions", json=body, headers=AUTH)
        assert answer.status_code == 202
        unrouted = 0.0
        for _ in range(100):
            exposition = (await http.get("/metrics")).text
            unrouted = metric_value(exposition, "knooppunt_events_unrouted_total", tenant="0363")
            if unrouted:
                break
            await asyncio.sleep(0.1)
    assert unrouted == 1.0
    assert metric_value(exposition, "knooppunt_submissions_accepted_total", tenant="0363") == 1.0


async def _problem(answer: Any) -> dict[str, Any]:
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    return problem


async def test_bad_requests_are_refused_at_the_edge_and_never_reach_kafka(
    hub_settings: Settings, demo_config: HubConfig
) -> None:
    bad_bsn = submission(authentication={"method": "digid", "bsn": INVALID_BSN})
    no_reference = submission()
    del no_reference["reference"]
    url = "/api/v1/tenants/0363/submissions"
    async with running_hub(hub_settings, demo_config) as (_hub, http):
        invalid = await http.post(url, json=bad_bsn, headers=AUTH)
        missing = await http.post(url, json=no_reference, headers=AUTH)
        anonymous = await http.post(url, json=submission())
        other_tenant = await http.post(
            "/api/v1/tenants/0518/submissions", json=submission(), headers=AUTH
        )
    assert invalid.status_code == 400
    problem = await _problem(invalid)
    assert [p["name"] for p in problem["invalidParams"]] == ["authentication.bsn"]
    assert "11-proef" in problem["invalidParams"][0]["reason"]
    assert INVALID_BSN not in invalid.text
    assert [p["name"] for p in (await _problem(missing))["invalidParams"]] == ["reference"]
    assert anonymous.status_code == 401
    assert (await _problem(anonymous))["code"] == "not_authenticated"
    assert other_tenant.status_code == 404
    contract_topic = f"{hub_settings.topic_prefix}{TYPE}.v1"
    leaked = await read_topics(hub_settings.kafka_bootstrap_servers, [contract_topic], 0, 3.0, 1.0)
    assert leaked == []


async def test_a_client_cannot_submit_for_a_tenant_it_is_not_bound_to(
    hub_settings: Settings, demo_config: HubConfig
) -> None:
    narrow = demo_config.model_copy(
        update={"clients": [demo_config.clients[0].model_copy(update={"tenants": ["0599"]})]}
    )
    async with running_hub(hub_settings, narrow) as (_hub, http):
        answer = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission(), headers=AUTH
        )
    assert answer.status_code == 403
    assert "may not act for tenant 0363" in (await _problem(answer))["detail"]


async def test_an_event_breaking_its_contract_is_dead_lettered_with_its_cause(
    hub_settings: Settings, demo_config: HubConfig
) -> None:
    names = hub_settings.topics
    contract_topic = f"{hub_settings.topic_prefix}{TYPE}.v1"
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"bad-1"),
        ("ce_source", b"urn:nld:oin:00000001002564440000:systeem:legacy"),
        ("ce_type", TYPE.encode()),
        ("ce_tenant", b"0363"),
    ]
    async with running_hub(hub_settings, demo_config) as (_hub, http):
        await wait_ready(http)
        await produce_raw(
            hub_settings.kafka_bootstrap_servers,
            contract_topic,
            b'{"form": {}}',
            b"0363:x",
            headers,
        )
        letters = await read_topics(
            hub_settings.kafka_bootstrap_servers, [names.dead_letter("0363")], 1
        )
    assert len(letters) == 1
    letter = dict(letters[0].headers)
    assert letter["ce_id"] == b"bad-1"
    assert letter["knooppunt_error_class"] == b"ContractError"
    assert letter["knooppunt_error_field"] == b"submission_id"
    assert letter["knooppunt_last_failure"]  # the same format as delivery dead letters
    assert letter["knooppunt_original_topic"] == contract_topic.encode()
    assert letter["knooppunt_original_offset"] == b"0"
    assert letters[0].value == b'{"form": {}}'


async def test_operations_endpoints(hub_settings: Settings, demo_config: HubConfig) -> None:
    async with running_hub(hub_settings, demo_config) as (_hub, http):
        await wait_ready(http)
        ready = (await http.get("/readyz")).json()
        health = await http.get("/healthz")
        metrics = await http.get("/metrics")
        asyncapi = (await http.get("/asyncapi.json")).json()
        openapi = (await http.get("/openapi.json")).json()
        docs = await http.get("/docs")
    assert health.json() == {"status": "ok"}
    prefix = hub_settings.topic_prefix
    assert ready["checks"] == {
        "kafka": "ok",
        f"consumer:{prefix}knooppunt-router": "joined",
        # Always, for the abonnementen of the Notificaties API (destinations made at runtime).
        "consumer:notificaties-abonnementen": "joined",
        "consumer:notificaties-callbacks": "joined",
        "consumer:notificaties-kanalen": "joined",
        "consumer:destination-blocks": "joined",
        f"consumer:{prefix}knooppunt-deliver": "joined",
        f"consumer:{prefix}knooppunt-retry": "joined",
        "consumer:destination-status": "joined",  # the demo config has a console operator
    }
    assert "knooppunt_events_routed_total" in metrics.text
    addresses = {channel["address"]: channel for channel in asyncapi["channels"].values()}
    for spec in CONTRACTS:
        assert hub_settings.topics.contract(spec) in addresses
    schemas = asyncapi["components"]["schemas"]
    assert "FormulierIngediendV2" in schemas
    assert "authentication" in schemas["FormulierIngediend"]["properties"]
    assert hub_settings.topics.destination("0363", "parkeren") in addresses
    assert hub_settings.topics.dead_letter("0599") in addresses
    assert "/api/v1/tenants/{tenant}/submissions" in openapi["paths"]
    assert docs.status_code == 200
