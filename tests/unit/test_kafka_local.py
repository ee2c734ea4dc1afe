from __future__ import annotations

import base64
import io
import re
import shutil
import socket
from pathlib import Path

import pytest

from hub.kafka import jars
from hub.kafka import local as kafka_local
from hub.kafka.local import LocalKafka, LocalKafkaError, new_cluster_id, resolve_broker_jars


def test_cached_jars_are_used_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pom = jars.DEPLOY_DIR / "pom.xml"
    cached = tmp_path / jars._pom_digest(pom)
    cached.mkdir()
    (cached / ".complete").write_text("")
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # no mvn: must not be needed
    assert resolve_broker_jars(tmp_path) == cached


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(LocalKafkaError, match="apt-get install maven"):
        resolve_broker_jars(tmp_path)


_FAKE_MAVEN = """#!/bin/sh
echo "[INFO] Scanning for projects..."
echo "[INFO] Downloading from central: https://repo.example/kafka-clients-4.1.1.pom"
echo "[INFO] Downloaded from central: https://repo.example/kafka-clients-4.1.1.pom (2 kB)"
echo "[INFO] Downloaded from central: https://repo.example/kafka-clients-4.1.1.jar (9 MB)"
for arg in "$@"; do case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac; done
echo "[INFO] Copying kafka-clients-4.1.1.jar to $out/kafka-clients-4.1.1.jar"
touch "$out/kafka-clients-4.1.1.jar"
exit ${FAKE_MAVEN_EXIT:-0}
"""


@pytest.fixture
def fake_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``mvn`` on PATH that prints what Maven prints while it fetches, and copies one jar."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mvn = bin_dir / "mvn"
    mvn.write_text(_FAKE_MAVEN)
    mvn.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return tmp_path / "cache"


def test_the_first_download_shows_progress(fake_maven: Path) -> None:
    """It was silent for the 20-40 s of a first download: now a line, a dot per artifact."""
    progress = io.StringIO()
    libs = resolve_broker_jars(fake_maven, progress=progress)
    assert (libs / "kafka-clients-4.1.1.jar").is_file()
    said = progress.getvalue()
    assert said.startswith("Fetching the Kafka jars from Maven Central (only this once")
    assert re.search(r"they are cached\) \.\.\. done: 3 artifacts in \d+ s\n$", said), said
    again = io.StringIO()
    assert resolve_broker_jars(fake_maven, progress=again) == libs
    assert again.getvalue() == ""  # cached: nothing to say


def test_a_failed_download_says_so_and_shows_mavens_last_lines(
    fake_maven: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MAVEN_EXIT", "1")
    progress = io.StringIO()
    with pytest.raises(LocalKafkaError, match=r"Copying kafka-clients-4\.1\.1\.jar") as failed:
        resolve_broker_jars(fake_maven, progress=progress)
    assert "Maven could not resolve the Kafka jars" in str(failed.value)
    assert "... failed: 3 artifacts in " in progress.getvalue()
    assert not any(fake_maven.glob("*/.complete"))


def test_cluster_id_is_16_bytes_in_urlsafe_base64() -> None:
    for _ in range(50):
        cluster_id = new_cluster_id()
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
        assert not cluster_id.startswith("-")


def test_single_node_settings(tmp_path: Path) -> None:
    properties = LocalKafka(tmp_path, port=19092)._server_properties()
    assert "process.roles=broker,controller" in properties
    assert "controller.quorum.voters=1@127.0.0.1:19093" in properties
    assert "group.initial.rebalance.delay.ms=0" in properties
    assert "offsets.topic.replication.factor=1" in properties
    assert f"log.dirs={tmp_path.resolve() / 'logs'}" in properties


def test_status_of_a_data_dir_without_broker(tmp_path: Path) -> None:
    status = LocalKafka(tmp_path).status()
    assert not status.running
    assert "not running" in status.describe()


def _listener_like_kafka(port: int = 0) -> socket.socket:
    """A listening socket as Kafka opens its own (Java sets SO_REUSEADDR on server sockets)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    return listener


def test_a_port_in_time_wait_is_free_and_a_listening_port_is_not() -> None:
    listener = _listener_like_kafka()
    port = listener.getsockname()[1]
    assert not kafka_local.port_free("127.0.0.1", port)  # a real listener: another broker
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    listener.close()
    accepted.close()  # the server side closes first, as when a broker crashes...
    client.close()  # ...so its end of the connection waits in TIME-WAIT for about 60 s
    assert kafka_local.port_free("127.0.0.1", port)
    _listener_like_kafka(port).close()  # as Kafka would: its bind succeeds
