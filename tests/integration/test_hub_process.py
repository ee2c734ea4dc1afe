"""The hub as a user runs it: `knooppunt run` in its own process, `knooppunt demo` beside it."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from hub.config import load_config
from hub.runtime.settings import Settings
from tests.conftest import DEMO_CONFIG, demo_token
from tests.integration.processes import hub_env, hub_process, knooppunt, wait_ready_process
from tests.kafka_reading import read_topics
from tests.kafka_under_test import free_port
from tests.samples import submission

pytestmark = pytest.mark.kafka
CONTRACT = "nl.gemeente.formulier.ingediend.v1"


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """The demo config with its secrets folder, as a user would copy it to start their own."""
    shutil.copytree(DEMO_CONFIG.parent, tmp_path / "demo")
    return tmp_path / "demo" / "config.yaml"


async def _router_progress(settings: Settings) -> tuple[list[ConsumerRecord], dict[int, int]]:
    """Every record on the contract topic, and the router group's committed offset per partition."""
    topic = settings.topic_prefix + CONTRACT
    records = await read_topics(settings.kafka_bootstrap_servers, [topic], 56)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.topics.group("router"))
    finally:
        await admin.close()
    return records, {
        tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == topic
    }


def _event_ids(records: list[ConsumerRecord]) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in records]


def _run_demo(settings: Settings, config: Path) -> dict[str, str]:
    demo = knooppunt(hub_env(settings), "demo", "--config", str(config))
    assert demo.returncode == 0, demo.stderr
    return {
        " ".join(before.split()): after
        for before, after in (line.split(" -> ") for line in demo.stdout.splitlines())
    }


def test_run_demo_and_graceful_stop_and_restart(
    hub_settings: Settings, config_copy: Path, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{hub_settings.http_port}"
    with hub_process(hub_settings, config_copy, tmp_path) as hub:
        wait_ready_process(hub_settings, hub)
        demo = _run_demo(hub_settings, config_copy)
        # A stream of submissions, then SIGTERM while the router is still busy with them.
        headers = {"Authorization": f"Bearer {demo_token()}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            for _ in range(50):
                sent = http.post("/api/v1/tenants/0363/submissions", json=submission())
                assert sent.status_code == 202
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(60) == 0

    prefix = hub_settings.topic_prefix
    assert demo["0363 parkeervergunning"] == (
        f"{prefix}knooppunt.deliver.0363.archief, {prefix}knooppunt.deliver.0363.parkeren"
    )
    assert demo["0599 bezwaar-woz"] == f"{prefix}knooppunt.deliver.0599.zaaksysteem"
    assert demo["0363 formulier-zonder-route"] == "no destination (matched no route)"

    # After the graceful stop, an event was routed exactly when its offset was committed:
    # in-flight events finished and were committed; none was routed but left uncommitted.
    parking = [hub_settings.topics.destination("0363", "parkeren")]
    contract, committed = asyncio.run(_router_progress(hub_settings))
    assert len(contract) == 6 + 50
    routed = set(
        _event_ids(asyncio.run(read_topics(hub_settings.kafka_bootstrap_servers, parking, 1)))
    )
    stream = [r for r in contract if orjson.loads(r.value)["form"]["id"] == "parkeervergunning"]
    for record in stream:
        done = record.offset < committed.get(record.partition, 0)
        assert (_event_ids([record])[0] in routed) == done, (record.partition, record.offset)

    # A restart picks up what was left, and nothing is lost or doubled.
    with hub_process(hub_settings, config_copy, tmp_path) as hub:
        wait_ready_process(hub_settings, hub)
        copies = asyncio.run(read_topics(hub_settings.kafka_bootstrap_servers, parking, 51))
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(60) == 0
    assert sorted(_event_ids(copies)) == sorted(_event_ids(stream))

    banner = (tmp_path / "stderr.log").read_text()
    assert f"{base}/docs" in banner
    assert f"{base}/asyncapi" in banner
    topics = len(hub_settings.topics.all_for(load_config(config_copy)))
    assert f"Topics (0 created now, {topics} existed)" in banner  # the first start made them
    log_lines = (tmp_path / "stdout.log").read_text().splitlines()
    events = [orjson.loads(line)["event"] for line in log_lines]
    assert events[-1] == "hub_stopped"
    assert "hub_started" in events


def test_a_config_with_a_mistake_is_refused_at_start(
    hub_settings: Settings, config_copy: Path
) -> None:
    text = config_copy.read_text().replace('- tenant: "0599"', '- tenant: "0598"')
    config_copy.write_text(text)
    line = text.splitlines().index('  - tenant: "0598"') + 1
    result = knooppunt(hub_env(hub_settings), "run", "--config", str(config_copy))
    assert result.returncode == 2
    assert f"{config_copy}:{line}: routes[2].tenant: unknown tenant '0598'" in result.stderr


def test_an_unreachable_kafka_is_a_clear_error(hub_settings: Settings, config_copy: Path) -> None:
    env = hub_env(hub_settings) | {"KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    result = knooppunt(env, "run", "--config", str(config_copy))
    assert result.returncode == 1  # what it needs did not answer (2: the command must change)
    assert "does not answer" in result.stderr
    assert "knooppunt kafka up" in result.stderr


def _webhook_zaaksysteem(config: Path, secret_env: str) -> Path:
    demo = "        connector: topic            # the back office reads knooppunt.deliver.0363."
    text = config.read_text().replace(
        demo + "zaaksysteem\n",
        "        connector: webhook\n"
        f"        settings: {{url: 'http://127.0.0.1:9/in', signing_secret_env: {secret_env}}}\n",
    )
    assert "signing_secret_env" in text
    config.write_text(text)
    return config


def test_a_secret_that_is_not_set_is_refused_with_file_and_line(
    hub_settings: Settings, config_copy: Path
) -> None:
    # Was: exit 3 and uvicorn's 23-line lifespan traceback in a JSON log line, then
    # "Application startup failed"; then one line naming no place. Now run checks the secrets
    # the config names before it connects, as `config check` does, with file and line.
    config = _webhook_zaaksysteem(config_copy, "KNOOPPUNT_NOT_SET")
    env = {k: v for k, v in hub_env(hub_settings).items() if k != "KNOOPPUNT_NOT_SET"}
    result = knooppunt(env, "run", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines() == [
        "error: configuration refused (1 problem):",
        f"  {config}:11: tenants[0].destinations[0].settings.signing_secret_env: environment "
        "variable KNOOPPUNT_NOT_SET is not set",
    ]


def test_a_sink_that_refuses_to_start_is_one_line_not_a_traceback(
    hub_settings: Settings, config_copy: Path
) -> None:
    """A refusal only the sink can make (the secret is set, but no Standard Webhooks secret)."""
    config = _webhook_zaaksysteem(config_copy, "KNOOPPUNT_BAD_SECRET")
    env = hub_env(hub_settings) | {"KNOOPPUNT_BAD_SECRET": "not-a-signing-secret"}
    result = knooppunt(env, "run", "--config", str(config))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Application startup failed" not in result.stderr + result.stdout
    refusal = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(refusal) == 1
    assert "tenant 0363, destination zaaksysteem: signing_secret_env" in refusal[0]
    assert "KNOOPPUNT_BAD_SECRET" in refusal[0]
