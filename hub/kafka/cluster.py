"""A local Apache Kafka cluster of N nodes (KRaft, each node broker and controller), no Docker.

The nodes are ``LocalKafka`` nodes from the same jars. Ports run in a row from the base port:
brokers on ``port .. port+N-1`` (node 1 on ``port``), controllers on ``port+N .. port+2N-1``;
one node alone is exactly the single broker (controller on ``port + 1``). Each node keeps its
data in ``<data_dir>/node-<id>``; ``<data_dir>/cluster.json`` records the node count, the base
port and the cluster id every node was formatted with. The controller quorum is static (every
node a voter), so 3 nodes survive the loss of any one.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hub.kafka.local import (
    BrokerStatus,
    LocalKafka,
    LocalKafkaError,
    LocalKafkaUsageError,
    broker_count,
    new_cluster_id,
    port_free,
)

__all__ = ["ClusterStatus", "LocalKafkaCluster", "cluster_ports", "recorded_cluster"]

CLUSTER_FILE = "cluster.json"


def cluster_ports(port: int, nodes: int) -> list[tuple[int, int]]:
    """(broker port, controller port) of nodes 1..N: brokers first, then controllers."""
    return [(port + i, port + nodes + i) for i in range(nodes)]


def recorded_cluster(data_dir: Path) -> tuple[int, int] | None:
    """(nodes, base port) of the cluster recorded in ``data_dir``; None when it holds none."""
    try:
        record = json.loads((data_dir / CLUSTER_FILE).read_text())
        return int(record["nodes"]), int(record["port"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class ClusterStatus:
    """Every node's status; ``running``/``reachable`` only when all nodes are."""

    nodes: list[BrokerStatus]
    bootstrap: str
    data_dir: Path

    @property
    def running(self) -> bool:
        return all(node.running for node in self.nodes)

    @property
    def reachable(self) -> bool:
        return all(node.running and node.reachable for node in self.nodes)

    def describe(self) -> str:
        serving = sum(node.running and node.reachable for node in self.nodes)
        lines = [
            f"local Kafka cluster of {len(self.nodes)} nodes, {serving} serving "
            f"(data {self.data_dir}); bootstrap servers {self.bootstrap}"
        ]
        for node_id, (node, address) in enumerate(
            zip(self.nodes, self.bootstrap.split(","), strict=True), start=1
        ):
            if not node.running:
                state = "not running"
            else:
                answer = "serving" if node.reachable else "started, not answering metadata"
                state = f"{answer} (pid {node.pid})"
            lines.append(f"  node {node_id} at {address}: {state}")
        return "\n".join(lines)


class LocalKafkaCluster:
    """N local broker+controller nodes sharing one cluster id, state under ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        nodes: int = 3,
        port: int = 9092,
        heap: str = "512m",
        libs_cache: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if nodes < 1:
            raise LocalKafkaUsageError(f"a cluster needs at least one node, not {nodes}")
        if port < 1 or port + 2 * nodes - 1 > 65535:
            raise LocalKafkaUsageError(
                f"{nodes} nodes need ports {port}..{port + 2 * nodes - 1} (brokers, then "
                "controllers); choose a --port so that all are at most 65535"
            )
        self.data_dir = data_dir.resolve()
        self.port = port
        self.host = host
        ports = cluster_ports(port, nodes)
        voters = ",".join(f"{i}@{host}:{ctl}" for i, (_, ctl) in enumerate(ports, start=1))
        self.nodes = [
            LocalKafka(
                self.data_dir / f"node-{i}",
                port=broker,
                controller_port=controller,
                heap=heap,
                libs_cache=libs_cache,
                host=host,
                node_id=i,
                quorum_voters=voters,
            )
            for i, (broker, controller) in enumerate(ports, start=1)
        ]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def _record(self) -> Path:
        return self.data_dir / CLUSTER_FILE

    def status(self) -> ClusterStatus:
        return ClusterStatus([node.status() for node in self.nodes], self.bootstrap, self.data_dir)

    def _cluster_id(self) -> str:
        """The recorded cluster id; a new one (recorded) for a new cluster. Refuses a data dir
        holding another layout, whose nodes would not find each other."""
        try:
            record = json.loads(self._record.read_text())
        except FileNotFoundError:
            if (self.data_dir / "broker.json").exists() or (self.data_dir / "logs").exists():
                raise LocalKafkaUsageError(
                    f"{self.data_dir} holds a single-node broker; give the cluster another "
                    "--data-dir"
                ) from None
            record = {"nodes": len(self.nodes), "port": self.port, "cluster_id": new_cluster_id()}
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._record.write_text(json.dumps(record))
        if (record["nodes"], record["port"]) != (len(self.nodes), self.port):
            raise LocalKafkaUsageError(
                f"{self.data_dir} holds a {record['nodes']}-node cluster on port "
                f"{record['port']}; use --nodes {record['nodes']} --port {record['port']}, "
                "or another --data-dir"
            )
        return str(record["cluster_id"])

    def up(self, timeout_s: float = 90.0) -> ClusterStatus:
        """Start every node that is not running and wait until all serve and each one's metadata
        names all N brokers. Idempotent; restarts a crashed node on its own data."""
        cluster_id = self._cluster_id()
        stopped = [node for node in self.nodes if not node.status().running]
        if not stopped:
            return self.status()
        span = f"{self.port}..{self.port + 2 * len(self.nodes) - 1}"
        for node in stopped:
            for port in (node.port, node.controller_port):
                if not port_free(self.host, port):
                    raise LocalKafkaUsageError(
                        f"port {port} on {self.host} is already in use (another Kafka?); a "
                        f"{len(self.nodes)}-node cluster uses ports {span}; choose another "
                        "base with --port or KNOOPPUNT_KAFKA_PORT"
                    )
        deadline = time.monotonic() + timeout_s
        try:
            for node in stopped:
                node.cluster_id = cluster_id
                node.start()
            for node in stopped:  # the quorum forms once a majority of the nodes runs
                node.wait_serving(max(deadline - time.monotonic(), 1.0))
            while not all(broker_count(n.bootstrap) == len(self.nodes) for n in self.nodes):
                if time.monotonic() > deadline:
                    raise LocalKafkaError(
                        f"the {len(self.nodes)} nodes did not all register as brokers within "
                        f"{timeout_s:.0f} s; see their logs under {self.data_dir}"
                    )
                time.sleep(0.25)
        except LocalKafkaError:
            _stop(stopped, 30.0)  # what this call started; nodes that ran before keep running
            raise
        return self.status()

    def down(self, timeout_s: float = 30.0) -> bool:
        """Stop every node at once (SIGTERM, SIGKILL after ``timeout_s``); False when none ran."""
        return _stop(self.nodes, timeout_s)


def _stop(nodes: list[LocalKafka], timeout_s: float) -> bool:
    # All at once: a node stopping alone would wait for a quorum its stopped peers cannot give.
    with ThreadPoolExecutor(max(len(nodes), 1)) as pool:
        return any(list(pool.map(lambda node: node.down(timeout_s), nodes)))
