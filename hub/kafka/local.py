"""A real single-node Apache Kafka (KRaft) on this machine, without Docker.

The broker jars come from Maven Central through ``deploy/kafka/pom.xml`` and are cached under
``<cache>/<hash of the pom>``, so a second start downloads nothing and a version bump in the pom
resolves anew. Storage is formatted once per data directory; the broker runs as a detached
``java kafka.Kafka`` process whose pid, ports and log live in that data directory.

``knooppunt kafka up|down|status`` and the test session's broker fixture both use this module;
``hub.kafka.cluster`` runs several of these nodes as one cluster.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaClient

from hub.kafka.admin import replication_for
from hub.kafka.jars import (
    DEPLOY_DIR,
    REPO_ROOT,
    LocalKafkaError,
    LocalKafkaUsageError,
    check_java,
    resolve_broker_jars,
)

__all__ = [
    "INDEX_BYTES",
    "BrokerStatus",
    "LocalKafka",
    "LocalKafkaError",
    "LocalKafkaUsageError",
    "broker_count",
    "kafka_reachable",
    "port_free",
    "resolve_broker_jars",
]

LOG_TAIL_LINES = 40
INDEX_BYTES = 120 * 1024  # log.index.size.max.bytes of the local broker (see _server_properties)


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):  # Kafka's own generator avoids a leading dash too
            return cluster_id


async def _probe(bootstrap: str, timeout_s: float) -> int:
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await client.bootstrap()  # sends a MetadataRequest
        return len(client.cluster.brokers())
    except Exception:
        return 0
    finally:
        await client.close()


def broker_count(bootstrap: str, timeout_s: float = 2.0) -> int:
    """How many brokers a metadata request to ``bootstrap`` names (0 when it fails)."""
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a refused probe is expected while the broker starts
    try:
        return asyncio.run(_probe(bootstrap, timeout_s))
    finally:
        quiet.setLevel(level)


def kafka_reachable(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True when a metadata request to ``bootstrap`` succeeds and names at least one broker."""
    return broker_count(bootstrap, timeout_s) > 0


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    reachable: bool
    pid: int | None
    bootstrap: str | None
    data_dir: Path

    def describe(self) -> str:
        if not self.running:
            return f"local Kafka is not running (data dir {self.data_dir})"
        state = "serving" if self.reachable else "started but not answering metadata requests"
        return f"local Kafka is {state} at {self.bootstrap} (pid {self.pid}, data {self.data_dir})"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) still answers kill(0); check its state.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def port_free(host: str, port: int) -> bool:
    """True when Kafka could listen on ``host:port``: bind it the way Kafka does.

    Kafka sets SO_REUSEADDR, so its own connections left in TIME-WAIT by a crash (about 60 s)
    do not keep it from binding again; only a listening socket (another broker) does.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class LocalKafka:
    """One local broker+controller node whose state lives in ``data_dir``.

    Alone by default; a node of a cluster gets its ``node_id``, the cluster's static
    ``quorum_voters`` (``id@host:controller_port,...``) and the ``cluster_id`` shared by all.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 9092,
        controller_port: int | None = None,
        heap: str = "512m",
        libs_cache: Path | None = None,
        host: str = "127.0.0.1",
        node_id: int = 1,
        quorum_voters: str | None = None,
        cluster_id: str | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.controller_port = controller_port or port + 1
        self.heap = heap
        self.host = host
        self.libs_cache = libs_cache or REPO_ROOT / ".knooppunt" / "kafka-libs"
        self.node_id = node_id
        self.quorum_voters = quorum_voters or f"{node_id}@{host}:{self.controller_port}"
        self.cluster_id = cluster_id
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "kafka.log"

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "broker.json"

    @property
    def _log_dirs(self) -> Path:
        return self.data_dir / "logs"

    def _server_properties(self) -> str:
        # Kafka's internal topics (consumer offsets, transactions) replicate like the hub's own.
        replication, min_isr = replication_for(len(self.quorum_voters.split(",")))
        return "\n".join(
            [
                "process.roles=broker,controller",
                f"node.id={self.node_id}",
                f"listeners=PLAINTEXT://{self.host}:{self.port},"
                f"CONTROLLER://{self.host}:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                # With static voters the storage is formatted without --standalone.
                f"controller.quorum.voters={self.quorum_voters}",
                f"log.dirs={self._log_dirs}",
                "num.partitions=3",
                "auto.create.topics.enable=false",
                f"offsets.topic.replication.factor={replication}",
                "offsets.topic.num.partitions=10",
                f"transaction.state.log.replication.factor={replication}",
                f"transaction.state.log.min.isr={min_isr}",
                f"share.coordinator.state.topic.replication.factor={replication}",
                f"share.coordinator.state.topic.min.isr={min_isr}",
                "group.initial.rebalance.delay.ms=0",
                "log.retention.hours=168",
                # Each partition's offset and time index is a sparse file mmap'd at this size
                # (Kafka's default 10 MiB). A page fault in it reads ahead and zero-fills up to
                # the disk's read_ahead_kb (8 MiB on some VMs, which also reclaim cold pages):
                # with ~3,000 partitions the broker spent most of a core in memset and routing
                # 6,000 events over 1,020 topics took 40-54 s instead of 8. 120 KiB, a multiple
                # of both entry sizes (8 and 12 bytes), holds 10,240 time-index entries, one per
                # 4 KiB written: a segment rolls at ~40 MiB, what a development broker never minds.
                f"log.index.size.max.bytes={INDEX_BYTES}",
                "",
            ]
        )

    def _read_state(self) -> dict[str, int | str] | None:
        try:
            state: dict[str, int | str] = json.loads(self._state_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return state

    def status(self) -> BrokerStatus:
        state = self._read_state()
        if state is None or not _pid_alive(int(state["pid"])):
            return BrokerStatus(False, False, None, None, self.data_dir)
        bootstrap = str(state["bootstrap"])
        return BrokerStatus(
            True, kafka_reachable(bootstrap), int(state["pid"]), bootstrap, self.data_dir
        )

    def _format(self, java: str, classpath: str, properties: Path) -> None:
        if (self._log_dirs / "meta.properties").is_file():
            return  # formatted before: keep the topics and offsets it holds
        result = subprocess.run(
            [
                java,
                "-Xmx256m",
                "-cp",
                classpath,
                f"-Dlog4j2.configurationFile={DEPLOY_DIR / 'log4j2.yaml'}",
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                self.cluster_id or new_cluster_id(),
                "--config",
                str(properties),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LocalKafkaError(
                f"formatting Kafka storage in {self._log_dirs} failed:\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log written)"

    def up(self, timeout_s: float = 60.0) -> BrokerStatus:
        """Start the broker (format storage first if new) and wait until it serves.

        Idempotent: when this data dir's broker already runs, return its status.
        Raises LocalKafkaError with the log's tail when it does not come up in time.
        """
        current = self.status()
        if current.running:
            return current
        self.start()
        self.wait_serving(timeout_s)
        return self.status()

    def start(self) -> None:
        """Check the ports are free, format storage if new, and launch the node; do not wait."""
        for port in (self.port, self.controller_port):
            if not port_free(self.host, port):
                raise LocalKafkaUsageError(
                    f"port {port} on {self.host} is already in use (another Kafka?); choose "
                    "another with --port or KNOOPPUNT_KAFKA_PORT (the controller uses port + 1)"
                )
        java = check_java()
        libs = resolve_broker_jars(self.libs_cache)
        classpath = f"{libs}/*"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        properties = self.data_dir / "server.properties"
        properties.write_text(self._server_properties())
        self._format(java, classpath, properties)
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    java,
                    f"-Xms{self.heap}",
                    f"-Xmx{self.heap}",
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    f"-Dlog4j2.configurationFile={DEPLOY_DIR / 'log4j2.yaml'}",
                    "-cp",
                    classpath,
                    "kafka.Kafka",
                    str(properties),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in the shell that ran `up` leaves it running
            )
        state = {"pid": self._process.pid, "bootstrap": self.bootstrap}
        self._state_file.write_text(json.dumps(state))

    def wait_serving(self, timeout_s: float) -> None:
        """Wait until the node started by ``start`` answers a metadata request.

        Raises LocalKafkaError with the log's tail when it exits, or (after stopping it) when it
        does not answer within ``timeout_s``.
        """
        if self._process is None:
            raise LocalKafkaError("wait_serving() waits for the node start() launched")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._state_file.unlink(missing_ok=True)
                raise LocalKafkaError(
                    f"Kafka exited with code {self._process.returncode} while starting; "
                    f"last lines of {self.log_file}:\n{self.log_tail()}"
                )
            if kafka_reachable(self.bootstrap, timeout_s=1.0):
                return
            time.sleep(0.25)
        self.down()
        raise LocalKafkaError(
            f"Kafka did not answer a metadata request at {self.bootstrap} "
            f"within {timeout_s:.0f} s; "
            f"last lines of {self.log_file}:\n{self.log_tail()}"
        )

    def down(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker cleanly (SIGTERM, then SIGKILL after ``timeout_s``).

        Returns False when no broker of this data dir was running.
        """
        state = self._read_state()
        if state is None:
            return False
        pid = int(state["pid"])
        self._state_file.unlink(missing_ok=True)
        if not _pid_alive(pid):
            return False
        os.kill(pid, signal.SIGTERM)
        own = self._process if self._process is not None and self._process.pid == pid else None
        if own is not None:  # started by this object: wait() also reaps it
            try:
                own.wait(timeout_s)
            except subprocess.TimeoutExpired:
                own.kill()
                own.wait(5)
            return True
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return True
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        return True

    def kill(self) -> bool:
        """SIGKILL the node, as a crash would (no controlled shutdown); its state stays, so
        ``up`` starts it again on the same data. Returns False when it was not running."""
        state = self._read_state()
        if state is None or not _pid_alive(pid := int(state["pid"])):
            return False
        os.kill(pid, signal.SIGKILL)
        if self._process is not None and self._process.pid == pid:
            self._process.wait(10)  # started by this object: reap it
        return True
