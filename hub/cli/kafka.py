"""``knooppunt kafka up|down|status``: the local Apache Kafka broker (no Docker)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import fail
from hub.errors import KnooppuntError
from hub.runtime.settings import Settings

if TYPE_CHECKING:
    from hub.kafka.local import LocalKafka

__all__ = ["kafka_app"]

kafka_app = typer.Typer(no_args_is_help=True, help="A local Apache Kafka broker (no Docker).")

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Broker data dir [default: <data_dir>/kafka].")
]
PortOption = Annotated[int | None, typer.Option("--port", help="Broker port [default: 9092].")]


def _local_kafka(data_dir: Path | None, port: int | None) -> LocalKafka:
    from hub.kafka.local import LocalKafka

    settings = Settings()
    return LocalKafka(
        data_dir or settings.data_dir / "kafka",
        port=port or settings.kafka_port,
        heap=settings.kafka_heap,
    )


@kafka_app.command("up")
def kafka_up(data_dir: DataDirOption = None, port: PortOption = None) -> None:
    """Start the local broker (downloads the jars once) and wait until it serves."""
    broker = _local_kafka(data_dir, port)
    started = time.monotonic()
    before = broker.status()
    try:
        status = broker.up()
    except KnooppuntError as exc:
        raise fail(exc) from exc
    took = "" if before.running else f" (ready in {time.monotonic() - started:.1f} s)"
    typer.echo(f"{status.describe()}{took}")


@kafka_app.command("down")
def kafka_down(data_dir: DataDirOption = None, port: PortOption = None) -> None:
    """Stop the local broker cleanly."""
    broker = _local_kafka(data_dir, port)
    typer.echo("local Kafka stopped" if broker.down() else "local Kafka was not running")


@kafka_app.command("status")
def kafka_status(data_dir: DataDirOption = None, port: PortOption = None) -> None:
    """Say whether the local broker runs and answers; exit 1 when it does not."""
    broker = _local_kafka(data_dir, port)
    status = broker.status()
    typer.echo(status.describe())
    if not (status.running and status.reachable):
        raise typer.Exit(1)
