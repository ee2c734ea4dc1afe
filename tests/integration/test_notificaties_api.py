"""The Notificaties API on a hub in this process, on the session's real broker: kanalen,
abonnementen (each municipality sees only its own), notificaties on the ZGW contract topic with
the right tenant and key, the callback check against a real local server, scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from contracts.cloudevents import CloudEvent
from hub.runtime.assembly import Hub
from hub.runtime.settings import Settings
from tests.conftest import running_hub
from tests.fakes.callbacks import CallbackReceiver, callback_receiver
from tests.integration.notificaties_setup import ZAAK, auth, notificatie, nrc_config
from tests.kafka_reading import read_topics

pytestmark = pytest.mark.kafka


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as running:
        yield running


@pytest.fixture
async def hub(hub_settings: Settings) -> AsyncIterator[tuple[Hub, httpx.AsyncClient]]:
    async with running_hub(hub_settings, nrc_config()) as running:
        yield running


async def _kanaal(http: httpx.AsyncClient, filters: list[str] | None = None) -> dict[str, Any]:
    created = await http.post(
        "/api/v1/kanaal",
        json={
            "naam": "zaken",
            "documentatieLink": "https://example.org/zaken",
            "filters": filters or [],
        },
        headers=auth("openzaak-0363"),
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _abonnement(receiver: CallbackReceiver, status: int = 204, **filters: str) -> dict[str, Any]:
    return {
        "callbackUrl": receiver.url(status),
        "auth": "Bearer token-of-the-subscriber",
        "kanalen": [{"naam": "zaken", "filters": filters}],
    }


async def test_kanalen_are_created_once_listed_by_name_and_read_by_url(
    hub: tuple[Hub, httpx.AsyncClient], hub_settings: Settings
) -> None:
    _, http = hub
    kanaal = await _kanaal(http, ["bronorganisatie", "zaaktype"])
    base = f"http://{hub_settings.http_host}:{hub_settings.http_port}/api/v1/kanaal/"
    assert kanaal["url"].startswith(base)
    assert kanaal["naam"] == "zaken"

    again = await http.post(
        "/api/v1/kanaal", json={"naam": "zaken"}, headers=auth("openzaak-regio")
    )
    assert again.status_code == 400
    assert again.headers["content-type"] == "application/problem+json"
    assert [(p["name"], p["code"]) for p in again.json()["invalidParams"]] == [("naam", "unique")]

    unknown = await http.post(
        "/api/v1/kanaal", json={"naam": "parkeren"}, headers=auth("openzaak-0363")
    )
    assert [p["name"] for p in unknown.json()["invalidParams"]] == ["naam"]

    listed = await http.get("/api/v1/kanaal", params={"naam": "zaken"}, headers=auth("zac-0599"))
    assert listed.json() == [kanaal]
    assert (
        await http.get("/api/v1/kanaal", params={"naam": "besluiten"}, headers=auth("zac-0599"))
    ).json() == []
    path = kanaal["url"].removeprefix(f"http://{hub_settings.http_host}:{hub_settings.http_port}")
    assert (await http.get(path, headers=auth("zac-0363"))).json() == kanaal


async def test_a_notificatie_lands_on_its_kanaal_topic_for_the_publishers_tenant_keyed_by_zaak(
    hub: tuple[Hub, httpx.AsyncClient], hub_settings: Settings
) -> None:
    _, http = hub
    await _kanaal(http)
    sent = notificatie(bronorganisatie="000599000")  # a single-tenant client: its own tenant
    answer = await http.post("/api/v1/notificaties", json=sent, headers=auth("openzaak-0363"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["hoofdObject"] == ZAAK
    assert answer.json()["kenmerken"] == sent["kenmerken"]

    topic = f"{hub_settings.topic_prefix}nl.overheid.zaken.v1"
    (record,) = await read_topics(hub_settings.kafka_bootstrap_servers, [topic], 1)
    event = CloudEvent.from_kafka(record.headers, record.value)
    assert event.tenant == "0363"
    assert event.type == "nl.overheid.zaken.status.create"
    assert record.key == b"0363:1f6a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert orjson.loads(record.value)["resourceUrl"] == sent["resourceUrl"]


async def test_a_client_of_several_tenants_publishes_for_the_tenant_of_its_bronorganisatie(
    hub: tuple[Hub, httpx.AsyncClient], hub_settings: Settings
) -> None:
    _, http = hub
    await _kanaal(http)
    regio = auth("openzaak-regio")
    sent = await http.post(
        "/api/v1/notificaties", json=notificatie(bronorganisatie="000599000"), headers=regio
    )
    assert sent.status_code == 201, sent.text
    for kenmerken, code in (({}, "required"), ({"bronorganisatie": "000111000"}, "invalid")):
        refused = await http.post(
            "/api/v1/notificaties", json=notificatie(**kenmerken), headers=regio
        )
        assert refused.status_code == 400
        assert [(p["name"], p["code"]) for p in refused.json()["invalidParams"]] == [
            ("kenmerken.bronorganisatie", code)
        ]
    topic = f"{hub_settings.topic_prefix}nl.overheid.zaken.v1"
    (record,) = await read_topics(hub_settings.kafka_bootstrap_servers, [topic], 1)
    assert CloudEvent.from_kafka(record.headers, record.value).tenant == "0599"


async def test_an_unknown_kanaal_is_refused_and_kenmerken_outside_its_filters_are_taken(
    hub: tuple[Hub, httpx.AsyncClient], hub_settings: Settings
) -> None:
    _, http = hub
    unknown = await http.post(
        "/api/v1/notificaties", json=notificatie(), headers=auth("openzaak-0363")
    )
    assert [(p["name"], p["code"]) for p in unknown.json()["invalidParams"]] == [
        ("kanaal", "message_kanaal")
    ]
    topic = f"{hub_settings.topic_prefix}nl.overheid.zaken.v1"
    assert await read_topics(hub_settings.kafka_bootstrap_servers, [topic], 0, timeout_s=1) == []
    # A kanaal is shared by every municipality: the filters its first registrant gave must not
    # refuse another's notificaties (a new user's trial: 0363 blocked 0599's besluiten).
    await _kanaal(http, ["bronorganisatie", "zaaktype"])
    mixed = notificatie(bronorganisatie="000599000", vertrouwelijkheid="openbaar")
    taken = await http.post("/api/v1/notificaties", json=mixed, headers=auth("openzaak-regio"))
    assert taken.status_code == 201, taken.text
    (record,) = await read_topics(hub_settings.kafka_bootstrap_servers, [topic], 1)
    assert orjson.loads(record.value)["kenmerken"]["vertrouwelijkheid"] == "openbaar"


async def test_bodies_are_checked_after_the_token_bounded_and_i_json(
    hub: tuple[Hub, httpx.AsyncClient],
) -> None:
    _, http = hub
    json = {"Content-Type": "application/json"}
    for path in ("/api/v1/notificaties", "/api/v1/abonnement", "/api/v1/kanaal"):
        anonymous = await http.post(path, content=b"{", headers=json)
        assert anonymous.status_code == 401, path  # not the body's 400: no token, no hints
    big = b'{"kanaal": "' + b"x" * 1_000_001 + b'"}'
    too_large = await http.post(
        "/api/v1/notificaties", content=big, headers={**json, **auth("openzaak-0363")}
    )
    assert too_large.status_code == 413
    twice = b'{"kanaal": "documenten", "kanaal": "zaken"}'
    refused = await http.post(
        "/api/v1/notificaties", content=twice, headers={**json, **auth("openzaak-0363")}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_json"


async def test_a_cloudevent_of_another_kind_than_a_notificatie_is_refused(
    hub: tuple[Hub, httpx.AsyncClient], hub_settings: Settings
) -> None:
    _, http = hub
    submission = {
        "specversion": "1.0",
        "type": "nl.gemeente.formulier.ingediend",
        "source": "urn:x",
        "id": "1",
        "data": {"form": {"id": "x"}},
    }
    refused = await http.post(
        "/api/v1/cloudevents",
        content=orjson.dumps(submission),
        headers={"Content-Type": "application/cloudevents+json", **auth("openzaak-0363")},
    )
    assert refused.status_code == 400
    assert [p["name"] for p in refused.json()["invalidParams"]] == ["type"]
    topic = f"{hub_settings.topic_prefix}nl.gemeente.formulier.ingediend.v2"
    assert await read_topics(hub_settings.kafka_bootstrap_servers, [topic], 0, timeout_s=1) == []


async def test_abonnementen_are_only_seen_and_changed_by_clients_of_their_tenant(
    hub: tuple[Hub, httpx.AsyncClient], receiver: CallbackReceiver
) -> None:
    built, http = hub
    await _kanaal(http)
    created = await http.post(
        "/api/v1/abonnement",
        json=_abonnement(receiver, bronorganisatie="*"),
        headers=auth("zac-0363"),
    )
    assert created.status_code == 201, created.text
    abonnement = created.json()
    assert "auth" not in abonnement  # a secret: written, never answered
    assert created.headers["location"] == abonnement["url"]
    path = "/api/v1/abonnement/" + abonnement["url"].rsplit("/", 1)[1]
    stored = next(iter(built.abonnementen.snapshot().values()))  # type: ignore[union-attr]
    assert stored.tenants == ("0363",)
    assert receiver.received == [
        ("/204", "Bearer token-of-the-subscriber", receiver.received[0][2])
    ]
    assert receiver.received[0][2]["kanaal"] == "test"

    other = auth("zac-0599")
    assert (await http.get("/api/v1/abonnement", headers=other)).json() == []
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = _abonnement(receiver) if method in ("PUT", "PATCH") else None
        answer = await http.request(method, path, json=body, headers=other)
        assert answer.status_code == 404, method
    assert (await http.get("/api/v1/abonnement", headers=auth("openzaak-regio"))).json() == [
        abonnement
    ]

    patched = await http.patch(
        path, json={"callbackUrl": receiver.url(200)}, headers=auth("zac-0363")
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["callbackUrl"] == receiver.url(200)
    assert patched.json()["kanalen"] == abonnement["kanalen"]
    assert receiver.received[-1][:2] == ("/200", "Bearer token-of-the-subscriber")

    assert (await http.delete(path, headers=auth("zac-0363"))).status_code == 204
    assert (await http.get(path, headers=auth("zac-0363"))).status_code == 404


async def test_a_callback_that_does_not_answer_2xx_refuses_the_abonnement(
    hub: tuple[Hub, httpx.AsyncClient], receiver: CallbackReceiver
) -> None:
    built, http = hub
    await _kanaal(http)
    for body in (
        _abonnement(receiver, 500),
        {**_abonnement(receiver), "callbackUrl": "http://127.0.0.1:9/nobody-listens"},
    ):
        refused = await http.post("/api/v1/abonnement", json=body, headers=auth("zac-0363"))
        assert refused.status_code == 400, refused.text
        assert [(p["name"], p["code"]) for p in refused.json()["invalidParams"]] == [
            ("callbackUrl", "invalid-callback-url")
        ]
    not_http = await http.post(
        "/api/v1/abonnement",
        json={**_abonnement(receiver), "callbackUrl": "file:///etc/passwd"},
        headers=auth("zac-0363"),
    )
    assert [p["name"] for p in not_http.json()["invalidParams"]] == ["callbackUrl"]
    unknown_kanaal = {**_abonnement(receiver), "kanalen": [{"naam": "besluiten"}]}
    refused = await http.post("/api/v1/abonnement", json=unknown_kanaal, headers=auth("zac-0363"))
    assert [p["name"] for p in refused.json()["invalidParams"]] == ["kanalen[0].naam"]
    assert built.abonnementen.snapshot() == {}  # type: ignore[union-attr]


async def test_scopes_decide_who_may_do_what(
    hub: tuple[Hub, httpx.AsyncClient], receiver: CallbackReceiver
) -> None:
    _, http = hub
    assert (await http.get("/api/v1/kanaal")).status_code == 401
    assert (await http.get("/api/v1/kanaal", headers=auth("zonder-scopes"))).status_code == 403
    forbidden = await http.post("/api/v1/kanaal", json={"naam": "zaken"}, headers=auth("zac-0363"))
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"
    await _kanaal(http)
    publisher_only = await http.post(
        "/api/v1/abonnement", json=_abonnement(receiver), headers=auth("openzaak-0363")
    )
    assert publisher_only.status_code == 403
    consumer_only = await http.post(
        "/api/v1/notificaties", json=notificatie(), headers=auth("zac-0363")
    )
    assert consumer_only.status_code == 403
    assert receiver.received == []


async def test_a_cloudevent_of_a_zgw_type_is_published_in_structured_and_binary_mode(
    hub: tuple[Hub, httpx.AsyncClient], hub_settings: Settings
) -> None:
    _, http = hub
    data = notificatie("zaak")
    structured = {
        "specversion": "1.0",
        "id": "c1",
        "source": "urn:nld:oin:00000001823288444000:systeem:openzaak",
        "type": "nl.overheid.zaken.zaak.create",
        "data": data,
    }
    headers = {**auth("openzaak-0363"), "Content-Type": "application/cloudevents+json"}
    answer = await http.post(
        "/api/v1/cloudevents", content=orjson.dumps(structured), headers=headers
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/cloudevents+json"
    binary = {
        **auth("openzaak-0363"),
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "c2",
        "ce-source": "openzaak",
        "ce-type": "nl.overheid.zaken.zaak.create",
    }
    assert (
        await http.post("/api/v1/cloudevents", content=orjson.dumps(data), headers=binary)
    ).status_code == 201
    refused = await http.post(
        "/api/v1/cloudevents",
        content=orjson.dumps({**structured, "type": "nl.overheid.zaken.zaak-geopend"}),
        headers=headers,
    )
    assert [p["name"] for p in refused.json()["invalidParams"]] == ["type"]
    topic = f"{hub_settings.topic_prefix}nl.overheid.zaken.v1"
    records = await read_topics(hub_settings.kafka_bootstrap_servers, [topic], 2)
    assert {CloudEvent.from_kafka(r.headers, r.value).tenant for r in records} == {"0363"}
