"""A broker of a 3-node cluster is SIGKILLed while 5,000 submissions come in over HTTP: every
submission answered 2xx is on its contract topic and routed; none is lost."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.registry import contract_for
from hub.kafka.cluster import LocalKafkaCluster
from hub.runtime.settings import Settings
from tests.conftest import DEMO_CONFIG, demo_token
from tests.integration.processes import hub_process, knooppunt, wait_ready_process
from tests.kafka_reading import read_topics
from tests.kafka_under_test import free_port, free_ports_in_a_row
from tests.samples import submission

pytestmark = pytest.mark.kafka
SUBMISSIONS = 5000
IN_FLIGHT = 32
KILL_AFTER = SUBMISSIONS // 2
NODES = 3
SPEC = contract_for("nl.gemeente.formulier.ingediend", 1)
FORMS = ("parkeervergunning", "melding-openbare-ruimte")  # 0363 routes both, to other places


@dataclass
class Outcome:
    accepted: dict[str, str] = field(default_factory=dict)  # event id -> form
    refused: Counter[int] = field(default_factory=Counter)  # status -> count
    unanswered: list[tuple[float, str]] = field(default_factory=list)  # when, what
    answered: int = 0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalKafkaCluster]:
    """`knooppunt kafka up --nodes 3` on free ports in a row, `kafka down` afterwards."""
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("a local cluster needs Java and Maven")
    data_dir, port = tmp_path / "kafka", free_ports_in_a_row(2 * NODES)
    args = ("--data-dir", str(data_dir), "--port", str(port))
    up = knooppunt(dict(os.environ), "kafka", "up", "--nodes", str(NODES), *args)
    assert up.returncode == 0, up.stderr
    assert f"local Kafka cluster of {NODES} nodes, {NODES} serving" in up.stdout
    print(f"\n{up.stdout.splitlines()[0]}")
    try:
        yield LocalKafkaCluster(data_dir, nodes=NODES, port=port)
    finally:
        down = knooppunt(dict(os.environ), "kafka", "down", *args)
        assert down.returncode == 0, down.stderr


async def _leader_and_topic_settings(bootstrap: str, topic: str) -> tuple[int, int, str]:
    """The leader of the topic's partition 0, its replica count and its min.insync.replicas."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        (configs,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    partition = next(p for p in described["partitions"] if p["partition"] == 0)
    entries = configs.to_object()["resources"][0]["config_entries"]
    min_insync = next(
        e["config_value"] for e in entries if e["config_names"] == "min.insync.replicas"
    )
    return partition["leader"], len(partition["replicas"]), min_insync


async def _submit_all(base: str, kill: asyncio.Event) -> Outcome:
    outcome = Outcome()
    forms = itertools.islice(itertools.cycle(FORMS), SUBMISSIONS)
    headers = {"Authorization": f"Bearer {demo_token()}"}
    # Idle connections are dropped before uvicorn's keep-alive timeout (5 s) closes them: with
    # equal timeouts a request can go out on a connection the hub is closing (httpx.ReadError).
    limits = httpx.Limits(max_connections=IN_FLIGHT, keepalive_expiry=2)
    # The hub bounds its own answer (publish timeout 10 s); a client timeout means a hang.
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as http:
        started = time.monotonic()

        async def worker() -> None:
            for form in forms:
                try:
                    answer = await http.post(
                        "/api/v1/tenants/0363/submissions", json=submission(form)
                    )
                except httpx.TransportError as exc:
                    outcome.unanswered.append((time.monotonic() - started, repr(exc)))
                    continue
                outcome.answered += 1
                if outcome.answered == KILL_AFTER:
                    kill.set()
                if answer.is_success:
                    outcome.accepted[answer.json()["id"]] = form
                else:
                    assert answer.headers["content-type"] == "application/problem+json"
                    assert answer.status_code == 503, answer.text  # never a 500
                    assert int(answer.headers["retry-after"]) > 0
                    outcome.refused[answer.status_code] += 1

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return outcome


async def _ids_on(
    bootstrap: str, topics: list[str], wanted: set[str], timeout_s: float
) -> set[str]:
    """Event ids on ``topics``, read until every one of ``wanted`` is there or time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = await read_topics(bootstrap, topics, len(wanted), timeout_s=10, settle_s=0.5)
        ids = {dict(r.headers)["ce_id"].decode() for r in records}
        if wanted <= ids or time.monotonic() > deadline:
            return ids


def test_a_broker_killed_mid_stream_loses_no_accepted_submission(
    cluster: LocalKafkaCluster, prefix: str, tmp_path: Path
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=cluster.bootstrap, topic_prefix=prefix, http_port=free_port()
    )
    names = settings.topics
    contract = names.contract(SPEC)
    base = f"http://127.0.0.1:{settings.http_port}"
    (tmp_path / "hub").mkdir()
    with hub_process(settings, DEMO_CONFIG, tmp_path / "hub") as hub:
        wait_ready_process(settings, hub)
        leader, replicas, min_insync = asyncio.run(
            _leader_and_topic_settings(cluster.bootstrap, contract)
        )
        assert (replicas, min_insync) == (3, "2")  # automatic: min(3, brokers), 2 in sync
        victim = cluster.nodes[leader - 1]

        async def stream() -> Outcome:
            kill = asyncio.Event()
            submitting = asyncio.create_task(_submit_all(base, kill))
            killing = asyncio.create_task(kill.wait())
            await asyncio.wait([submitting, killing], return_when=asyncio.FIRST_COMPLETED)
            killing.cancel()
            if kill.is_set():
                assert await asyncio.to_thread(victim.kill)
            return await submitting

        started = time.monotonic()
        outcome = asyncio.run(stream())
        took = time.monotonic() - started
        status = knooppunt(dict(os.environ), "kafka", "status", "--data-dir", str(cluster.data_dir))
        assert status.returncode == 1
        assert f"node {leader} at {victim.bootstrap}: not running" in status.stdout

        accepted = set(outcome.accepted)
        on_contract = asyncio.run(_ids_on(cluster.bootstrap, [contract], accepted, 60))
        by_form = {f: {i for i, form in outcome.accepted.items() if form == f} for f in FORMS}
        routed = {
            destination: asyncio.run(
                _ids_on(cluster.bootstrap, [names.destination("0363", destination)], wanted, 90)
            )
            for destination, wanted in (
                ("parkeren", by_form["parkeervergunning"]),
                ("zaaksysteem", by_form["melding-openbare-ruimte"]),
                ("archief", accepted),
            )
        }
        assert hub.poll() is None

    lost = accepted - on_contract
    print(
        f"\n{SUBMISSIONS} submissions, {IN_FLIGHT} in flight, node {leader} (leader of "
        f"{contract}[0]) SIGKILLed after {KILL_AFTER} answers: {len(accepted)} answered 2xx, "
        f"{sum(outcome.refused.values())} answered {dict(outcome.refused)}, lost {len(lost)}; "
        f"{len(on_contract - accepted)} refused ones reached Kafka anyway; took {took:.1f} s; "
        f"unanswered: {outcome.unanswered[:5]} ({len(outcome.unanswered)})"
    )
    assert outcome.unanswered == []
    assert outcome.answered == SUBMISSIONS
    assert lost == set()
    assert routed["parkeren"] >= by_form["parkeervergunning"]
    assert routed["zaaksysteem"] >= by_form["melding-openbare-ruimte"]
    assert routed["archief"] >= accepted
