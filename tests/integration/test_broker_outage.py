"""The single broker goes down under a running hub: intake answers 503 with Retry-After within the
publish timeout, /readyz says why, and once the broker is back the hub recovers by itself."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.eformulieren.source import submission_event_id
from contracts.registry import contract_for
from hub.kafka.local import LocalKafka
from hub.runtime.settings import Settings
from tests.conftest import DEMO_CONFIG, demo_token
from tests.integration.processes import hub_process, wait_ready_process
from tests.kafka_reading import read_topics
from tests.kafka_under_test import free_port
from tests.samples import submission

pytestmark = pytest.mark.kafka
PUBLISH_TIMEOUT_S = 3.0
MARGIN_S = 3.0  # the HTTP round trip and the handler, on a busy 2-core machine
RECOVERY_BOUND_S = 60.0
SUBMISSION = contract_for("nl.gemeente.formulier.ingediend", 1)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of this test only: the session's broker must stay up for the other tests."""
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("a broker of its own needs Java and Maven")
    broker = LocalKafka(
        tmp_path / "kafka", port=free_port(), controller_port=free_port(), heap="384m"
    )
    broker.up(timeout_s=90)
    try:
        yield broker
    finally:
        broker.down()


def _post(http: httpx.Client, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = http.post("/api/v1/tenants/0363/submissions", json=body)
    return answer, time.monotonic() - started


def _event_ids(bootstrap: str, topic: str) -> set[str]:
    records = asyncio.run(read_topics(bootstrap, [topic], expect=1 << 30, timeout_s=1, settle_s=0))
    return {dict(r.headers)["ce_id"].decode() for r in records}


def test_intake_answers_503_while_the_broker_is_down_and_recovers_without_a_restart(
    own_broker: LocalKafka, prefix: str, tmp_path: Path
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=own_broker.bootstrap,
        topic_prefix=prefix,
        http_port=free_port(),
        publish_timeout_s=PUBLISH_TIMEOUT_S,
    )
    headers = {"Authorization": f"Bearer {demo_token()}"}
    base = f"http://127.0.0.1:{settings.http_port}"
    parking = settings.topics.destination("0363", "parkeren")
    # The client's own timeout is far beyond the hub's: a hang would show as a slow answer.
    with (
        hub_process(settings, DEMO_CONFIG, tmp_path) as hub,
        httpx.Client(base_url=base, headers=headers, timeout=60) as http,
    ):
        wait_ready_process(settings, hub)
        before, _ = _post(http, submission())
        assert before.status_code == 202, before.text

        assert own_broker.kill()
        refused_body = submission()
        refused, took = _post(http, refused_body)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) > 0
        assert refused.json()["code"] == "kafka_unavailable"
        assert took < PUBLISH_TIMEOUT_S + MARGIN_S, f"503 only after {took:.1f} s"
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["kafka"].startswith("unreachable: "), ready.text

        restarted = time.monotonic()
        own_broker.up(timeout_s=90)  # same data dir and ports, seconds after the crash
        broker_back = time.monotonic()
        answers = []
        while True:
            answer, _ = _post(http, submission())
            answers.append(answer.status_code)
            if answer.status_code == 202:
                break
            assert answer.status_code == 503, answer.text  # never a 500 on the way back
            assert time.monotonic() - broker_back < RECOVERY_BOUND_S, answers
        accepted = time.monotonic()
        # The router rejoins its consumer group by itself and routes the new submission.
        while answer.json()["id"] not in (routed := _event_ids(own_broker.bootstrap, parking)):
            assert time.monotonic() - broker_back < RECOVERY_BOUND_S, "not routed after recovery"
        routing_again = time.monotonic()
        wait_ready_process(settings, hub, timeout_s=RECOVERY_BOUND_S)
        assert hub.poll() is None  # the same process throughout

    assert before.json()["id"] in routed
    refused_id = submission_event_id(
        "0363", "demo-eformulieren", uuid.UUID(refused_body["submission_id"])
    )
    late = refused_id in _event_ids(own_broker.bootstrap, settings.topics.contract(SUBMISSION))
    print(
        f"\n503 after {took:.1f} s (publish timeout {PUBLISH_TIMEOUT_S:g} s); broker restarted in "
        f"{broker_back - restarted:.1f} s; first 202 {accepted - broker_back:.1f} s after that "
        f"({len(answers) - 1} x 503 meanwhile), routed again after "
        f"{routing_again - broker_back:.1f} s; the submission answered 503 "
        f"{'still reached' if late else 'did not reach'} Kafka"
    )
