"""A Kafka-native back office (issue 10, part 7): the example consumer in
examples/backoffice_consumer, run as its own process as a back office runs it, reads its
destination topic behind a hub on the real broker."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from hub.kafka.admin import partitions_of
from hub.runtime.settings import Settings
from tests.conftest import REPO, demo_token, running_hub
from tests.integration.helpers import form_route, hub_config, tenant_entry, until, wait_ready
from tests.kafka_reading import produce_raw, read_topics
from tests.samples import VALID_BSN, submission

pytestmark = pytest.mark.kafka
AUTH = {"Authorization": f"Bearer {demo_token()}"}
SCHEMA = "urn:nld:knooppunt:schema:nl.gemeente.formulier.ingediend:v{}"


def v2_submission(form_id: str) -> dict[str, object]:
    body = submission(form_id)
    body["authentication"] = {
        "method": "digid",
        "level_of_assurance": "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "legal_subject": {"type": "bsn", "value": VALID_BSN},
    }
    return body


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture
def backoffice(
    hub_settings: Settings, prefix: str, store: Path, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts `python -m examples.backoffice_consumer ...` from the repository (once the hub
    made the topic, as it is when a back office starts), its log in backoffice.log."""
    topic = hub_settings.topics.destination("0363", "backoffice")
    started: list[subprocess.Popen[bytes]] = []
    with (tmp_path / "backoffice.log").open("wb") as out:

        def start() -> subprocess.Popen[bytes]:
            command = [
                sys.executable,
                "-m",
                "examples.backoffice_consumer",
                "--bootstrap",
                hub_settings.kafka_bootstrap_servers,
                "--topic",
                topic,
                "--group",
                f"{prefix}backoffice-0363-backoffice",
                "--schemas",
                "contracts/schemas",
                "--store",
                str(store),
            ]
            started.append(subprocess.Popen(command, cwd=REPO, stdout=out, stderr=out))
            return started[-1]

        try:
            yield start
        finally:
            for process in started:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)


def rows(store: Path, sql: str) -> list[tuple[object, ...]]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:  # the consumer has not created its tables yet
            return []


def committed_and_end(bootstrap: str, group: str, partitions: list[TopicPartition]) -> list[int]:
    """Per partition: the group's committed offset minus the partition's end (0: all read)."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        committed = reader.committed(partitions, timeout=10)
        ends = [reader.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions]
    finally:
        reader.close()
    return [max(c.offset, 0) - end for c, end in zip(committed, ends, strict=True)]


async def test_the_example_consumer_handles_each_event_once_and_parks_what_is_invalid(
    hub_settings: Settings,
    prefix: str,
    store: Path,
    tmp_path: Path,
    backoffice: Callable[[], subprocess.Popen[bytes]],
) -> None:
    bootstrap = hub_settings.kafka_bootstrap_servers
    topic = hub_settings.topics.destination("0363", "backoffice")
    config = hub_config(
        [tenant_entry("0363", {"backoffice": None})],
        [form_route("0363", "aanvraag", ["backoffice"])],
    )
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        process = backoffice()
        first = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("aanvraag"), headers=AUTH
        )
        assert first.status_code == 202, first.text
        [copy] = await read_topics(bootstrap, [topic], 1)
        await until(lambda: len(rows(store, "SELECT id FROM events")) == 1, timeout_s=60)

        # The same record again (a redelivery), then four that are no valid event, all with
        # the copy's key, so on its partition: the loop must get past them.
        headers = [(name, value or b"") for name, value in copy.headers]
        await produce_raw(bootstrap, topic, copy.value, copy.key, headers)
        await produce_raw(bootstrap, topic, b"{not json", copy.key, headers)
        bsn_as_number = json.loads(copy.value)
        bsn_as_number["authentication"]["bsn"] = int(VALID_BSN)
        other_id = [(n, b"other-id" if n == "ce_id" else v) for n, v in headers]
        await produce_raw(bootstrap, topic, json.dumps(bsn_as_number).encode(), copy.key, other_id)
        await produce_raw(bootstrap, topic, copy.value, copy.key, [("x-trace", b"1")])
        other_tenant = [(n, b"0599" if n == "ce_tenant" else v) for n, v in other_id]
        await produce_raw(bootstrap, topic, copy.value, copy.key, other_tenant)
        await until(lambda: len(rows(store, "SELECT reason FROM parked")) == 4, timeout_s=30)

        second = await http.post(
            "/api/v2/tenants/0363/submissions", json=v2_submission("aanvraag"), headers=AUTH
        )
        assert second.status_code == 202, second.text
        await until(lambda: len(rows(store, "SELECT id FROM events")) == 2, timeout_s=30)
        assert process.poll() is None

    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0
    events = rows(store, "SELECT id, tenant, dataschema, data FROM events ORDER BY handled_at")
    assert [(e[0], e[1], e[2]) for e in events] == [
        (first.json()["id"], "0363", SCHEMA.format(1)),
        (second.json()["id"], "0363", SCHEMA.format(2)),
    ]
    assert json.loads(str(events[1][3]))["authentication"]["legal_subject"]["value"] == VALID_BSN
    assert sorted(str(r[0]) for r in rows(store, "SELECT reason FROM parked")) == [
        "ce_tenant '0599' is not this topic's tenant",
        "missing header(s): ce_specversion, ce_id, ce_source, ce_type, ce_tenant, ce_dataschema",
        f"payload does not match {SCHEMA.format(1)}: $.authentication.bsn (anyOf)",
        "the value is not JSON",
    ]
    output = (tmp_path / "backoffice.log").read_text()
    assert output.count("INFO handled ") == 2
    assert output.count("INFO duplicate ") == 1
    assert VALID_BSN not in output  # the log names places and fields, never a value
    # Every record handled was committed: a restart would read nothing again.
    partitions = await partitions_of(bootstrap, [topic])
    lag = await asyncio.to_thread(
        committed_and_end,
        bootstrap,
        f"{prefix}backoffice-0363-backoffice",
        [TopicPartition(tp.topic, tp.partition) for tp in partitions],
    )
    assert lag == [0] * len(partitions)
