"""`knooppunt kafka up|down|status` around the real local broker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from hub.kafka.admin import ensure_topics
from hub.kafka.local import INDEX_BYTES, LocalKafka, LocalKafkaError
from tests.kafka_under_test import KafkaUnderTest, free_port

pytestmark = pytest.mark.kafka
KNOOPPUNT = str(Path(sys.executable).parent / "knooppunt")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KNOOPPUNT, "kafka", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def local_kafka(kafka: KafkaUnderTest) -> KafkaUnderTest:
    if kafka.data_dir is None:
        pytest.skip("the session's broker is not the local one (KAFKA_BOOTSTRAP_SERVERS is set)")
    return kafka


def test_status_reports_the_serving_broker(local_kafka: KafkaUnderTest) -> None:
    port = local_kafka.bootstrap.rsplit(":", 1)[1]
    result = _cli("status", "--data-dir", str(local_kafka.data_dir), "--port", port)
    assert result.returncode == 0, result.stderr
    assert f"local Kafka is serving at {local_kafka.bootstrap}" in result.stdout
    # another port is not this broker's: said, exit 2 (a trial: `--port 1` said "serving", 0)
    other = _cli("status", "--data-dir", str(local_kafka.data_dir), "--port", "1")
    assert other.returncode == 2, other.stdout
    assert f"listens on {local_kafka.bootstrap}, not on port 1" in other.stderr


def test_up_is_idempotent_and_names_the_running_broker(local_kafka: KafkaUnderTest) -> None:
    port = local_kafka.bootstrap.rsplit(":", 1)[1]
    result = _cli("up", "--data-dir", str(local_kafka.data_dir), "--port", port)
    assert result.returncode == 0, result.stderr
    assert "ready in" not in result.stdout  # it did not start a second broker
    assert f"serving at {local_kafka.bootstrap}" in result.stdout


def test_a_taken_port_is_refused_before_starting(
    local_kafka: KafkaUnderTest, tmp_path: Path
) -> None:
    taken = int(local_kafka.bootstrap.rsplit(":", 1)[1])
    broker = LocalKafka(tmp_path / "kafka", port=taken, controller_port=free_port())
    with pytest.raises(LocalKafkaError, match=f"port {taken} on 127.0.0.1 is already in use"):
        broker.up()
    assert not broker.status().running


def test_a_broker_that_cannot_start_fails_with_its_log_tail(
    local_kafka: KafkaUnderTest, tmp_path: Path
) -> None:
    broker = LocalKafka(
        tmp_path / "kafka", port=free_port(), controller_port=free_port(), heap="1k"
    )
    with pytest.raises(LocalKafkaError) as caught:
        broker.up(timeout_s=60)
    message = str(caught.value)
    assert "Kafka exited with code 1 while starting" in message
    assert "heap" in message.lower()  # the JVM's own complaint, from the log's tail
    assert not broker.status().running


def test_status_and_down_without_a_broker(tmp_path: Path) -> None:
    status = _cli("status", "--data-dir", str(tmp_path))
    assert status.returncode == 1
    assert "not running" in status.stdout
    down = _cli("down", "--data-dir", str(tmp_path))
    assert down.returncode == 0
    assert "was not running" in down.stdout


async def test_index_files_are_preallocated_small(local_kafka: KafkaUnderTest) -> None:
    """Kafka preallocates each partition's offset and time index (sparse, mmap'd) at
    log.index.size.max.bytes; at the 10 MiB default, a page fault in any of ~3,000 of them
    zero-filled the disk's whole read-ahead window (8 MiB here) and routing to 1,020 topics
    took five times longer. The local broker keeps them at INDEX_BYTES."""
    topic = f"index-size-{uuid.uuid4().hex[:8]}"
    await ensure_topics(local_kafka.bootstrap, [topic], partitions=1)
    assert local_kafka.data_dir is not None
    partition_dir = local_kafka.data_dir / "logs" / f"{topic}-0"
    sizes: dict[str, int] = {}
    for _ in range(200):  # the leader creates the log and its two indexes just after the topic
        if partition_dir.is_dir():
            sizes = {path.suffix: path.stat().st_size for path in partition_dir.glob("*index")}
            if len(sizes) == 2:
                break
        await asyncio.sleep(0.05)
    assert sizes == {".index": INDEX_BYTES, ".timeindex": INDEX_BYTES}
