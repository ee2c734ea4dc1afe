"""The Notificaties API of a hub running as a user runs it (``knooppunt run`` in its own
process, on the session's real broker), driven by clients the project did not write:
gemma-zds-client (VNG's generic ZGW client: it finds every operation by ``operationId`` in the
hub's own OpenAPI document), and schemathesis, which fuzzes every operation from that document
(bounded, deterministic, loopback only). And two hub processes sharing one set of kanalen and
abonnementen, which survive a restart of both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import schemathesis.specs.openapi.schemas  # imported here, not lazily in a test (below)
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from zds_client import Client, ClientAuth

from contracts.cloudevents import CloudEvent
from hub.runtime.settings import Settings
from tests.conftest import DEMO_SECRET
from tests.fakes.callbacks import CallbackReceiver, callback_receiver
from tests.integration.notificaties_setup import ZAAK, auth, notificatie, nrc_config_data
from tests.integration.processes import hub_process, wait_ready_process
from tests.kafka_reading import read_topics
from tests.kafka_under_test import KafkaUnderTest, free_port

pytestmark = pytest.mark.kafka
# schemathesis imports its OpenAPI module lazily, in from_url; imported then, deep in a test,
# pytest's assertion rewriting of it hit CPython 3.11.7's "AST constructor recursion depth
# mismatch" (a SystemError) once in a fresh clone's run. Importing it with the module avoids it.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25


def _settings(kafka: KafkaUnderTest, prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka.bootstrap,
        topic_prefix=prefix,
        http_port=free_port(),
        roles="api",
    )


def _config(folder: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(nrc_config_data()))
    return path


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as running:
        yield running


@pytest.fixture
def hub(kafka: KafkaUnderTest, prefix: str, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """One hub process with the api role; its settings and base URL."""
    settings = _settings(kafka, prefix)
    with hub_process(settings, _config(tmp_path), tmp_path) as process:
        wait_ready_process(settings, process, timeout_s=90)
        yield settings, f"http://127.0.0.1:{settings.http_port}"


def test_gemma_zds_client_registers_a_kanaal_subscribes_and_publishes(
    hub: tuple[Settings, str], receiver: CallbackReceiver
) -> None:
    settings, base = hub
    nrc = Client(
        f"{base}/api/v1/",
        oas_location="schema/openapi.yaml",
        auth=ClientAuth("openzaak-regio", DEMO_SECRET),
    )
    # What Open Zaak's register_kanalen does: look the kanaal up by name, create it if absent.
    assert nrc.list("kanaal", params={"naam": "zaken"}) == []
    kanaal = nrc.create("kanaal", {"naam": "zaken", "filters": ["bronorganisatie", "zaaktype"]})
    assert nrc.list("kanaal", params={"naam": "zaken"}) == [kanaal]
    assert nrc.retrieve("kanaal", url=kanaal["url"]) == kanaal

    abonnement = nrc.create(
        "abonnement",
        {
            "callbackUrl": receiver.url(204),
            "auth": "Bearer secret-of-the-zac",
            "kanalen": [{"naam": "zaken", "filters": {"bronorganisatie": "000599000"}}],
        },
    )
    assert receiver.received[-1][:2] == ("/204", "Bearer secret-of-the-zac")
    changed = nrc.partial_update(
        "abonnement", {"kanalen": [{"naam": "zaken"}]}, url=abonnement["url"]
    )
    assert changed["kanalen"] == [{"naam": "zaken", "filters": {}}]
    assert nrc.retrieve("abonnement", url=abonnement["url"]) == changed

    published = nrc.create("notificaties", notificatie(bronorganisatie="000599000"))
    assert published["hoofdObject"] == ZAAK
    topic = f"{settings.topic_prefix}nl.overheid.zaken.v1"
    (record,) = asyncio.run(read_topics(settings.kafka_bootstrap_servers, [topic], 1))
    assert CloudEvent.from_kafka(record.headers, record.value).tenant == "0599"
    nrc.delete("abonnement", url=abonnement["url"])
    assert nrc.list("abonnement") == []


def test_every_operation_answers_as_its_openapi_document_says(
    hub: tuple[Settings, str], receiver: CallbackReceiver
) -> None:
    """Schemathesis generates requests from the hub's own Notificaties API document; every
    answer must be documented (status, content type, headers, body schema) and none a 5xx.
    Generated callback URLs are pointed at the local receiver: the hub checks each one."""
    _, base = hub
    with httpx.Client(base_url=base, headers=auth("openzaak-regio")) as http:
        for naam in ("zaken", "documenten"):  # something to read, subscribe and publish to
            http.post("/api/v1/kanaal", json={"naam": naam})
        created = http.post(
            "/api/v1/abonnement",
            json={"callbackUrl": receiver.url(204), "auth": "x", "kanalen": [{"naam": "zaken"}]},
        )
    assert created.status_code == 201, created.text
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    headers = auth("openzaak-regio")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) == 11

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def answers_as_documented(case: Any) -> None:
            if isinstance(case.body, dict) and "callbackUrl" in case.body:
                case.body["callbackUrl"] = receiver.url(204)
            response = case.call(headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS, headers=headers)

        answers_as_documented()
    assert receiver.received, "no abonnement was ever checked"


def _within_a_second(condition: Callable[[], bool], what: str) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < 1.0, f"{what} not visible in the other process in 1 s"
        time.sleep(0.02)


def test_two_hub_processes_share_kanalen_and_abonnementen_which_survive_a_restart(
    kafka: KafkaUnderTest, prefix: str, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    config = _config(tmp_path)
    one, other = _settings(kafka, prefix), _settings(kafka, prefix)
    (tmp_path / "one").mkdir()
    (tmp_path / "other").mkdir()
    body = {"callbackUrl": receiver.url(204), "auth": "x", "kanalen": [{"naam": "zaken"}]}
    with (
        hub_process(one, config, tmp_path / "one") as first,
        hub_process(other, config, tmp_path / "other") as second,
    ):
        wait_ready_process(one, first, timeout_s=90)
        wait_ready_process(other, second, timeout_s=90)
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{one.http_port}") as via_one,
            httpx.Client(base_url=f"http://127.0.0.1:{other.http_port}") as via_other,
        ):
            publisher, subscriber = auth("openzaak-0363"), auth("zac-0363")
            kanaal = via_one.post("/api/v1/kanaal", json={"naam": "zaken"}, headers=publisher)
            assert kanaal.status_code == 201, kanaal.text
            _within_a_second(
                lambda: via_other.get("/api/v1/kanaal", headers=publisher).json() != [], "a kanaal"
            )
            created = via_other.post("/api/v1/abonnement", json=body, headers=subscriber)
            assert created.status_code == 201, created.text
            path = "/api/v1/abonnement/" + created.json()["url"].rsplit("/", 1)[1]
            _within_a_second(
                lambda: via_one.get(path, headers=subscriber).status_code == 200, "an abonnement"
            )
            assert via_one.delete(path, headers=subscriber).status_code == 204
            _within_a_second(
                lambda: via_other.get(path, headers=subscriber).status_code == 404, "a delete"
            )
            kept = via_other.post("/api/v1/abonnement", json=body, headers=subscriber).json()

    again = _settings(kafka, prefix)
    with (
        hub_process(again, config, tmp_path) as restarted,
        httpx.Client(base_url=f"http://127.0.0.1:{again.http_port}") as http,
    ):
        wait_ready_process(again, restarted, timeout_s=90)
        listed = http.get("/api/v1/abonnement", headers=auth("zac-0363")).json()
        assert [a["url"].rsplit("/", 1)[1] for a in listed] == [kept["url"].rsplit("/", 1)[1]]
        assert listed[0]["kanalen"] == kept["kanalen"]
        kanalen = http.get("/api/v1/kanaal", headers=auth("zac-0363")).json()
        assert [k["naam"] for k in kanalen] == ["zaken"]
