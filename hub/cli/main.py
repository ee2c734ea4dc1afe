"""The ``knooppunt`` command line: ``run``, ``demo``, ``token`` and one module per command group
(``kafka``, ``config``, ``contracts``, ``connectors``, ``tenants``, ``dlq``, ``routes``)."""

from __future__ import annotations

import logging
import signal
import socket
from typing import Annotated

import typer
from pydantic import ValidationError

from hub.cli.abonnementen import abonnementen_app
from hub.cli.blobs import blobs_app
from hub.cli.common import DEMO_CONFIG, ConfigOption, fail, load
from hub.cli.connectors import connectors_app
from hub.cli.contracts import contracts_app
from hub.cli.destinations import destinations_app
from hub.cli.dlq import dlq_app
from hub.cli.kafka import kafka_app
from hub.cli.routes import routes_app
from hub.cli.tenants import config_app, tenants_app
from hub.errors import KnooppuntError
from hub.runtime.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # main() turns an error into one line
    help="Knooppunt integration hub.",
)
app.add_typer(kafka_app, name="kafka")
app.add_typer(config_app, name="config")
app.add_typer(contracts_app, name="contracts")
app.add_typer(connectors_app, name="connectors")
app.add_typer(tenants_app, name="tenants")
app.add_typer(dlq_app, name="dlq")
app.add_typer(destinations_app, name="destinations")
app.add_typer(blobs_app, name="blobs")
app.add_typer(routes_app, name="routes")
app.add_typer(abonnementen_app, name="abonnementen")


def _listening_socket(host: str, port: int) -> socket.socket:
    from hub.runtime.serving import listening_socket

    try:
        return listening_socket(host, port)
    except OSError as exc:
        raise fail(KnooppuntError(f"cannot listen on {host}:{port}: {exc.strerror}")) from exc


@app.command()
def run(
    config: ConfigOption,
    host: Annotated[str | None, typer.Option(help="HTTP host [KNOOPPUNT_HTTP_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port [KNOOPPUNT_HTTP_PORT].")] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="Roles of this process, comma separated: api, router, delivery "
            "[KNOOPPUNT_ROLES; default: all three]."
        ),
    ] = None,
) -> None:
    """Run the hub: HTTP intake and API, router, delivery engine, metrics. Ctrl-C or SIGTERM
    stops it. Several processes with a role share its work through the role's consumer group."""
    import uvicorn

    from hub.config import load_config
    from hub.kafka.local import kafka_reachable
    from hub.observability.logs import configure_logging
    from hub.runtime.assembly import build_hub
    from hub.runtime.serving import server_config

    given = {"http_host": host, "http_port": port, "roles": role}
    overrides = {k: v for k, v in given.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level)
    try:
        built = build_hub(settings, load_config(config), announce=True, freeze_heap=True)
    except KnooppuntError as exc:
        raise fail(exc) from exc
    if not kafka_reachable(settings.kafka_bootstrap_servers, timeout_s=5.0):
        raise fail(
            KnooppuntError(
                f"Kafka at {settings.kafka_bootstrap_servers} does not answer. Start the local "
                "broker with 'knooppunt kafka up', or point KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS "
                "at your cluster."
            )
        )
    # A start refused in words (a sink's secret not set) is one line of ours, not uvicorn's
    # traceback of the lifespan and its "Application startup failed".
    logging.getLogger("uvicorn.error").addFilter(lambda _record: built.start_refused is None)
    server = uvicorn.Server(server_config(built.app, settings.shutdown_grace_s))
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then re-raises the signal. Catch that
    # re-raise, so a clean stop exits 0 without a KeyboardInterrupt traceback.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda _sig, _frame: None)
    try:
        server.run(sockets=[_listening_socket(settings.http_host, settings.http_port)])
    except SystemExit:  # uvicorn exits 3 when the lifespan's start failed
        if built.start_refused is None:
            raise
    if built.start_refused is not None:
        raise fail(KnooppuntError(built.start_refused))
    if not server.started:
        raise typer.Exit(1)
    typer.echo("Knooppunt stopped cleanly (in-flight events finished, offsets committed)", err=True)


@app.command()
def demo(
    config: ConfigOption = DEMO_CONFIG,
    url: Annotated[
        str | None, typer.Option(help="Hub URL [http://KNOOPPUNT_HTTP_HOST:PORT].")
    ] = None,
    client: Annotated[str | None, typer.Option(help="API client id to send as.")] = None,
) -> None:
    """Send sample submissions to a running hub; print which topics each one reached."""
    from hub.devtools.demo import demo_main

    settings = Settings()
    loaded = load(config)
    target = url or f"http://{settings.http_host}:{settings.http_port}"
    try:
        typer.echo(
            demo_main(loaded, target, settings.kafka_bootstrap_servers, settings.topics, client)
        )
    except (OSError, KnooppuntError) as exc:
        raise fail(Exception(f"{exc} (is the hub running at {target}? try 'make run')")) from exc


@app.command()
def token(
    config: ConfigOption = DEMO_CONFIG,
    client: Annotated[str | None, typer.Option(help="API client id [the first client].")] = None,
) -> None:
    """Print a ZGW-style JWT for a configured client (valid for an hour), e.g. for curl."""
    from hub.config import client_secret
    from hub.http.auth import make_token

    loaded = load(config)
    chosen = loaded.client(client) if client else next(iter(loaded.clients), None)
    if chosen is None:
        raise fail(KnooppuntError(f"{config}: no API client {client or ''}"))
    try:
        typer.echo(make_token(chosen.id, client_secret(loaded, chosen)))
    except KnooppuntError as exc:
        raise fail(exc) from exc


def main() -> None:
    """The ``knooppunt`` command. An error is one line on stderr and exit 2, never a traceback:
    an error of a command (a file that cannot be read, Kafka refusing) names what it concerns."""
    try:
        app()
    except ValidationError as exc:  # a KNOOPPUNT_* setting (or its option) out of range
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            typer.echo(
                f"error: setting {name} (KNOOPPUNT_{name.upper()}): {error['msg']}", err=True
            )
        raise SystemExit(2) from exc
    except KnooppuntError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        typer.echo(f"error: {exc.strerror or exc}{where}", err=True)
        raise SystemExit(2) from exc
    except Exception as exc:  # a bug of ours: still one line, and how to report it
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {exc} (please report this, with the "
            "command you ran)",
            err=True,
        )
        raise SystemExit(2) from exc
