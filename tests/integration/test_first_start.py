"""A new user's first start, on a broker as fresh as theirs: `knooppunt run` logs nothing above
info (it printed GroupCoordinatorNotAvailable errors and "Coordinator load in progress"
warnings while the new broker loaded its coordinators), `knooppunt demo` exits 0 when the hub
took every submission, and 1 with the reason in one line when it refused some (it exited 0
when every submission got 403).
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from hub.kafka.local import LocalKafka
from hub.runtime.settings import Settings
from tests.conftest import DEMO_CONFIG
from tests.integration.processes import hub_env, hub_process, knooppunt, wait_ready_process
from tests.kafka_under_test import KafkaUnderTest, free_port

pytestmark = pytest.mark.kafka


@pytest.fixture
def fresh_broker(kafka: KafkaUnderTest, tmp_path: Path) -> Iterator[str]:
    """A broker of its own, never used before (the session's has its coordinators loaded)."""
    if kafka.data_dir is None:
        pytest.skip("the session's broker is not the local one: no local jars to start one")
    broker = LocalKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    broker.up(timeout_s=90)
    try:
        yield broker.bootstrap
    finally:
        broker.down()


def _copy(tmp_path: Path, name: str) -> Path:
    shutil.copytree(DEMO_CONFIG.parent, tmp_path / name)
    return tmp_path / name / "config.yaml"


def _logged_above_info(stdout: str) -> list[str]:
    lines = []
    for line in stdout.splitlines():
        try:
            level = orjson.loads(line).get("level", "")
        except orjson.JSONDecodeError:
            lines.append(line)  # not a log line of ours: something printed around the logs
            continue
        if level not in ("debug", "info"):
            lines.append(line)
    return lines


def test_a_first_start_is_quiet_and_the_demo_says_when_it_is_refused(
    fresh_broker: str, tmp_path: Path
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=fresh_broker, http_port=free_port(), shutdown_grace_s=10
    )
    hubs = _copy(tmp_path, "hub")  # the hub lets its client act for Amsterdam only
    hubs.write_text(hubs.read_text().replace('tenants: ["0363", "0599"]', 'tenants: ["0363"]'))
    logs = tmp_path / "logs"
    logs.mkdir()
    env = hub_env(settings)
    with hub_process(settings, hubs, logs) as process:
        wait_ready_process(settings, process, timeout_s=90)
        healthy = knooppunt(env, "demo", "--config", str(hubs))
        refused = knooppunt(env, "demo", "--config", str(_copy(tmp_path, "users")))
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0

    assert healthy.returncode == 0, healthy.stderr
    assert healthy.stderr == ""
    assert "0363 parkeervergunning" in healthy.stdout

    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert refused.stderr.splitlines() == [
        "error: the hub refused 3 of 6 submissions (HTTP 403: client 'demo-eformulieren' may not "
        "act for tenant 0599); the hub's config does not let this client act for that tenant: "
        "give the demo the config the hub runs with (--config)"
    ]
    assert refused.stdout.count("refused: HTTP 403") == 3  # each one's line, then the error

    stdout = (logs / "stdout.log").read_text()
    stderr = (logs / "stderr.log").read_text()
    assert _logged_above_info(stdout) == []
    assert "Traceback" not in stderr
    assert stderr.startswith(f"Knooppunt 0.1.0 is running with {hubs}")
    assert stderr.rstrip().endswith(
        "Knooppunt stopped cleanly (in-flight events finished, offsets committed)"
    )
