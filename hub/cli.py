"""The ``knooppunt`` command line."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli_dlq import dlq_app
from hub.cli_routes import routes_app
from hub.errors import ConfigError, KnooppuntError
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.config import HubConfig
    from hub.kafka_cluster import LocalKafkaCluster
    from hub.kafka_local import LocalKafka

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Knooppunt integration hub.")
kafka_app = typer.Typer(no_args_is_help=True, help="A local Apache Kafka broker (no Docker).")
config_app = typer.Typer(no_args_is_help=True, help="Check a hub config file.")
contracts_app = typer.Typer(no_args_is_help=True, help="The event contracts and their versions.")
app.add_typer(kafka_app, name="kafka")
app.add_typer(config_app, name="config")
app.add_typer(contracts_app, name="contracts")
tenants_app = typer.Typer(no_args_is_help=True, help="The tenants (municipalities) of a config.")
app.add_typer(tenants_app, name="tenants")
app.add_typer(dlq_app, name="dlq")
app.add_typer(routes_app, name="routes")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="KNOOPPUNT_CONFIG", help="Hub config (YAML)."),
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Broker data dir [default: <data_dir>/kafka].")
]
PortOption = Annotated[int | None, typer.Option("--port", help="Broker port [default: 9092].")]
NodesOption = Annotated[
    int | None,
    typer.Option(
        "--nodes",
        min=1,
        help="Nodes of a local cluster, each broker and controller; brokers on port, port+1, "
        "..., controllers after them [default: 1, or the cluster recorded in the data dir].",
    ),
]


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(2)


def _load(path: Path) -> HubConfig:
    from hub.config import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise _fail(exc) from exc


def _listening_socket(host: str, port: int) -> socket.socket:
    """The HTTP socket, with TCP_NODELAY: uvicorn writes a response's headers and body apart, and
    with Nagle's algorithm the body would wait for the client's delayed ACK (about 40 ms)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise _fail(KnooppuntError(f"cannot listen on {host}:{port}: {exc.strerror}")) from exc
    return sock


@app.command()
def run(
    config: ConfigOption,
    host: Annotated[str | None, typer.Option(help="HTTP host [KNOOPPUNT_HTTP_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port [KNOOPPUNT_HTTP_PORT].")] = None,
) -> None:
    """Run the hub: HTTP intake and API, router consumer, metrics. Ctrl-C or SIGTERM stops it."""
    import uvicorn

    from hub.app import build_hub
    from hub.config import load_config
    from hub.kafka_local import kafka_reachable
    from hub.logs import configure_logging

    overrides = {k: v for k, v in {"http_host": host, "http_port": port}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level)
    try:
        built = build_hub(settings, load_config(config), announce=True)
    except KnooppuntError as exc:
        raise _fail(exc) from exc
    if not kafka_reachable(settings.kafka_bootstrap_servers, timeout_s=5.0):
        raise _fail(
            KnooppuntError(
                f"Kafka at {settings.kafka_bootstrap_servers} does not answer. Start the local "
                "broker with 'knooppunt kafka up', or point KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS "
                "at your cluster."
            )
        )
    server = uvicorn.Server(
        uvicorn.Config(
            built.app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        )
    )
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then re-raises the signal. Catch that
    # re-raise, so a clean stop exits 0 without a KeyboardInterrupt traceback.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda _sig, _frame: None)
    server.run(sockets=[_listening_socket(settings.http_host, settings.http_port)])
    if not server.started:
        raise typer.Exit(1)
    typer.echo("Knooppunt stopped cleanly (in-flight events finished, offsets committed)", err=True)


@app.command()
def demo(
    config: ConfigOption = Path("deploy/demo/config.yaml"),
    url: Annotated[
        str | None, typer.Option(help="Hub URL [http://KNOOPPUNT_HTTP_HOST:PORT].")
    ] = None,
    client: Annotated[str | None, typer.Option(help="API client id to send as.")] = None,
) -> None:
    """Send sample submissions to a running hub; print which topics each one reached."""
    from hub.demo import demo_main

    settings = Settings()
    loaded = _load(config)
    target = url or f"http://{settings.http_host}:{settings.http_port}"
    try:
        typer.echo(
            demo_main(loaded, target, settings.kafka_bootstrap_servers, settings.topics, client)
        )
    except (OSError, KnooppuntError) as exc:
        raise _fail(Exception(f"{exc} (is the hub running at {target}? try 'make run')")) from exc


@app.command()
def token(
    config: ConfigOption = Path("deploy/demo/config.yaml"),
    client: Annotated[str | None, typer.Option(help="API client id [the first client].")] = None,
) -> None:
    """Print a ZGW-style JWT for a configured client (valid for an hour), e.g. for curl."""
    from hub.auth import make_token
    from hub.config import client_secret

    loaded = _load(config)
    chosen = loaded.client(client) if client else next(iter(loaded.clients), None)
    if chosen is None:
        raise _fail(KnooppuntError(f"{config}: no API client {client or ''}"))
    try:
        typer.echo(make_token(chosen.id, client_secret(loaded, chosen)))
    except KnooppuntError as exc:
        raise _fail(exc) from exc


@tenants_app.command("list")
def tenants_list(config: ConfigOption = Path("deploy/demo/config.yaml")) -> None:
    """Each tenant with its destinations, the clients that may act for it and its routes."""
    loaded = _load(config)
    for tenant in loaded.tenants:
        clients = [c.id for c in loaded.clients if tenant.id in c.tenants]
        typer.echo(f"{tenant.id} {tenant.name} (OIN {tenant.oin}, RSIN {tenant.rsin})")
        for destination in tenant.destinations:
            typer.echo(f"  destination {destination.name:<16} connector {destination.connector}")
        typer.echo(
            f"  routes: {len(loaded.routes_of(tenant.id))}; unrouted events: {tenant.unrouted}"
        )
        typer.echo(f"  clients: {', '.join(clients) or '(none)'}")


@config_app.command("check")
def config_check(config: Annotated[Path, typer.Argument(help="Hub config (YAML).")]) -> None:
    """Validate a config file without starting anything."""
    loaded = _load(config)
    typer.echo(
        f"{config}: ok ({len(loaded.tenants)} tenants, {len(loaded.clients)} clients, "
        f"{len(loaded.routes)} routes)"
    )


REPO_DOCS = Path(__file__).resolve().parent.parent / "docs" / "contracts.md"
SnapshotsOption = Annotated[
    Path | None, typer.Option("--snapshots", help="Snapshot dir [contracts/schemas].")
]


@contracts_app.command("list")
def contracts_list() -> None:
    """Every contract type and version, with its topic."""
    from contracts.registry import CONTRACTS

    names = Settings().topics
    for spec in CONTRACTS:
        kind = " (family)" if spec.family else ""
        typer.echo(
            f"{spec.type:<42} v{spec.version}  {names.contract(spec):<46}{kind} {spec.summary}"
        )


@contracts_app.command("export")
def contracts_export(directory: Annotated[Path, typer.Argument(help="Where to write.")]) -> None:
    """Write every version's JSON Schema to DIR/<type>/v<N>.json."""
    from contracts.schemas import write_schemas

    written = write_schemas(directory)
    typer.echo(f"wrote {len(written)} schemas under {directory}")


@contracts_app.command("snapshot")
def contracts_snapshot(snapshots: SnapshotsOption = None) -> None:
    """Publish new versions: write the snapshots that are missing. Never rewrites one."""
    from contracts.schemas import SNAPSHOT_DIR, write_schemas

    written = write_schemas(snapshots or SNAPSHOT_DIR, overwrite=False)
    for path in written:
        typer.echo(f"published {path}")
    if not written:
        typer.echo("every version already has its snapshot")


@contracts_app.command("check")
def contracts_check(snapshots: SnapshotsOption = None) -> None:
    """Fail when a contract changed incompatibly within its major version (FULL compatibility)."""
    from contracts.registry import CONTRACTS
    from contracts.schemas import SNAPSHOT_DIR, check_snapshots

    problems = check_snapshots(snapshots or SNAPSHOT_DIR)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"contracts: {len(CONTRACTS)} versions match their published snapshots")


@contracts_app.command("docs")
def contracts_docs(
    check: Annotated[bool, typer.Option(help="Only check the file is up to date.")] = False,
    output: Annotated[Path, typer.Option(help="Where to write.")] = REPO_DOCS,
) -> None:
    """Write docs/contracts.md from the registry (or, with --check, fail if it is stale)."""
    from contracts.docs import render_contracts_doc
    from hub.topics import TopicNames

    text = render_contracts_doc(TopicNames().contract)
    if check:
        if not output.is_file() or output.read_text() != text:
            typer.echo(f"error: {output} is out of date; run 'knooppunt contracts docs'", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date")
        return
    output.write_text(text)
    typer.echo(f"wrote {output}")


def _local_kafka(
    data_dir: Path | None, port: int | None, nodes: int | None = None
) -> LocalKafka | LocalKafkaCluster:
    """The single broker, unless ``nodes`` > 1 or the data dir records a cluster (whose node
    count and port are then the defaults)."""
    from hub.kafka_cluster import LocalKafkaCluster, recorded_cluster
    from hub.kafka_local import LocalKafka

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
    import time

    try:
        broker = _local_kafka(data_dir, port, nodes)
    except KnooppuntError as exc:
        raise _fail(exc) from exc
    started = time.monotonic()
    before = broker.status()
    try:
        status = broker.up()
    except KnooppuntError as exc:
        raise _fail(exc) from exc
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


def main() -> None:
    app()
