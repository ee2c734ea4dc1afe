"""The real Kafka broker the test session runs against, chosen once per session.

Order: ``KAFKA_BOOTSTRAP_SERVERS`` when set; else a local broker started on free ports for this
session (Java + Maven, the same code as ``knooppunt kafka up``); else testcontainers where a
Docker engine answers; else the session fails saying what to install.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.kafka.local import LocalKafka, kafka_reachable, port_free, resolve_broker_jars

__all__ = ["KafkaUnderTest", "free_port", "free_ports_in_a_row", "kafka_for_session"]


@dataclass
class KafkaUnderTest:
    bootstrap: str
    description: str
    data_dir: Path | None = None  # set for the local broker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports_in_a_row(count: int) -> int:
    """A base port such that ``base .. base+count-1`` are all free (a local cluster's ports)."""
    for _ in range(100):
        base = free_port()
        if base + count <= 65536 and all(port_free("127.0.0.1", base + i) for i in range(count)):
            return base
    raise RuntimeError(f"found no {count} free ports in a row")


def _kafka_version(libs: Path) -> str:
    jar = next(libs.glob("kafka_2.13-*.jar"), None)
    return jar.name.removeprefix("kafka_2.13-").removesuffix(".jar") if jar else "?"


@contextmanager
def _local_broker() -> Iterator[KafkaUnderTest]:
    data_dir = Path(tempfile.mkdtemp(prefix="knooppunt-test-kafka-"))
    broker = LocalKafka(data_dir, port=free_port(), controller_port=free_port(), heap="512m")
    libs = resolve_broker_jars(broker.libs_cache)
    started = time.monotonic()
    broker.up(timeout_s=90)
    took = time.monotonic() - started
    try:
        yield KafkaUnderTest(
            broker.bootstrap,
            f"local Apache Kafka {_kafka_version(libs)} (KRaft) at {broker.bootstrap}, "
            f"started for this session in {took:.1f} s",
            data_dir,
        )
    finally:
        broker.down()
        shutil.rmtree(data_dir, ignore_errors=True)


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]  # noqa: PLC0415

        docker.from_env().ping()
    except Exception:
        return False
    return True


@contextmanager
def _container_broker() -> Iterator[KafkaUnderTest]:
    from testcontainers.kafka import KafkaContainer  # noqa: PLC0415

    with KafkaContainer() as container:
        bootstrap = container.get_bootstrap_server()
        yield KafkaUnderTest(bootstrap, f"Kafka in a testcontainer at {bootstrap}")


@contextmanager
def kafka_for_session() -> Iterator[KafkaUnderTest]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        if not kafka_reachable(external, timeout_s=10):
            raise RuntimeError(f"KAFKA_BOOTSTRAP_SERVERS={external} does not answer")
        yield KafkaUnderTest(external, f"external Kafka at {external} (KAFKA_BOOTSTRAP_SERVERS)")
    elif shutil.which("java") and shutil.which("mvn"):
        with _local_broker() as kafka:
            yield kafka
    elif _docker_answers():
        with _container_broker() as kafka:
            yield kafka
    else:
        raise RuntimeError(
            "no Kafka for the tests: install Java 17+ and Maven (the suite then starts a local "
            "broker), or run a Docker engine, or set KAFKA_BOOTSTRAP_SERVERS"
        )
