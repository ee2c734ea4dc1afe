"""``knooppunt kafka up|down|status``: the local Apache Kafka broker (no Docker)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.errors import UsageError
from hub.runtime.settings import Settings

if TYPE_CHECKING:
    from hub.kafka.cluster import LocalKafkaCluster
    from hub.kafka.local import LocalKafka

__all__ = ["kafka_app"]

kafka_app = typer.Typer(no_args_is_help=True, help="A local Apache Kafka broker (no Docker).")

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Broker data dir [default: KNOOPPUNT_DATA_DIR/kafka, .knooppunt/kafka]."
    ),
]
PortOption = Annotated[
    int | None,
    typer.Option(
        "--port",
        min=1,
        max=65534,
        help="Broker port; the controller's is port + 1 [default: KNOOPPUNT_KAFKA_PORT, 9092].",
    ),
]
NodesOption = Annotated[
    int | None,
    typer.Option(
        "--nodes",
        min=1,
        help="Nodes of a local cluster, each broker and controller; brokers on port, port+1, "
        "..., controllers after them [default: 1, or the cluster recorded in the data dir].",
    ),
]


def _local_kafka(
    data_dir: Path | None, port: int | None, nodes: int | None = None
) -> LocalKafka | LocalKafkaCluster:
    """The single broker, unless ``nodes`` > 1 or the data dir records a cluster (whose node
    count and port are then the defaults)."""
    from hub.kafka.cluster import LocalKafkaCluster, recorded_cluster
    from hub.kafka.local import LocalKafka

    settings = Settings()
    directory = data_dir or settings.data_dir / "kafka"
    recorded = recorded_cluster(directory)
    if recorded is not None or (nodes or 1) > 1:
        recorded_nodes, recorded_port = recorded or (nodes, port)
        return LocalKafkaCluster(
            directory,
            nodes=nodes or recorded_nodes or 1,
            port=port or recorded_port or settings.kafka_port,
            heap=settings.kafka_heap,
        )
    return LocalKafka(directory, port=port or settings.kafka_port, heap=settings.kafka_heap)


@kafka_app.command("up")
def kafka_up(
    data_dir: DataDirOption = None, port: PortOption = None, nodes: NodesOption = None
) -> None:
    """Start the local broker, or a cluster with --nodes (downloads the jars once), and wait
    until it serves."""
    broker = _local_kafka(data_dir, port, nodes)
    started = time.monotonic()
    before = broker.status()
    if not before.running:  # it takes 10-20 s (and the first time, the jars)
        typer.echo("Starting the local Kafka ...", err=True)
    status = broker.up()
    took = "" if before.running else f" (ready in {time.monotonic() - started:.1f} s)"
    first, *nodes_lines = status.describe().splitlines()  # a cluster lists its nodes below
    typer.echo("\n".join([f"{first}{took}", *nodes_lines]))


@kafka_app.command("down")
def kafka_down(data_dir: DataDirOption = None, port: PortOption = None) -> None:
    """Stop the local broker (or every node of the local cluster) cleanly."""
    broker = _local_kafka(data_dir, port)
    typer.echo("local Kafka stopped" if broker.down() else "local Kafka was not running")


@kafka_app.command("status")
def kafka_status(data_dir: DataDirOption = None, port: PortOption = None) -> None:
    """Say whether the local broker (each node of a cluster) runs and answers; exit 1 when
    it (any node) does not."""
    broker = _local_kafka(data_dir, port)
    status = broker.status()
    typer.echo(status.describe())
    if not (status.running and status.reachable):
        raise typer.Exit(1)
    ports = {address.rpartition(":")[2] for address in (status.bootstrap or "").split(",")}
    if port is not None and str(port) not in ports:  # a trial: --port 1 said "running", exit 0
        raise UsageError(
            f"the local broker of {status.data_dir} listens on {status.bootstrap}, not on port "
            f"{port}; 'knooppunt kafka status' without --port reports it"
        )
