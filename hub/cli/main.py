"""The ``knooppunt`` command line: ``run``, ``demo``, ``token`` and one module per command group
(``kafka``, ``config``, ``contracts``, ``connectors``, ``tenants``, ``dlq``, ``routes``).

Commands raise; ``hub.cli.errors`` says what went wrong in one line and picks the exit code."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from typing import Annotated

import typer

from hub.cli.abonnementen import abonnementen_app
from hub.cli.blobs import blobs_app
from hub.cli.common import DEMO_CONFIG, ConfigOption, HubUrlOption, checked, load
from hub.cli.connectors import connectors_app
from hub.cli.contracts import contracts_app
from hub.cli.destinations import destinations_app
from hub.cli.dlq import dlq_app
from hub.cli.errors import DEBUG_ENV, KnooppuntGroup, move_debug_flag
from hub.cli.kafka import kafka_app
from hub.cli.metrics import metrics_app
from hub.cli.routes import routes_app
from hub.cli.tail import tail_command
from hub.cli.tenants import config_app, tenants_app
from hub.errors import KnooppuntError, UsageError
from hub.runtime.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    cls=KnooppuntGroup,  # every error one line (hub.cli.errors)
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help and errors: no boxes around one line
    help="Knooppunt integration hub.\n\nExit codes: 0 done; 1 something the command needs "
    "failed or did not answer (Kafka, the hub), or a check found problems; 2 the command, a "
    "file, the config or a KNOOPPUNT_* setting must change.",
)
app.add_typer(kafka_app, name="kafka")
app.add_typer(config_app, name="config")
app.add_typer(contracts_app, name="contracts")
app.add_typer(connectors_app, name="connectors")
app.add_typer(metrics_app, name="metrics")
app.add_typer(tenants_app, name="tenants")
app.add_typer(dlq_app, name="dlq")
app.add_typer(destinations_app, name="destinations")
app.add_typer(blobs_app, name="blobs")
app.add_typer(routes_app, name="routes")
app.add_typer(abonnementen_app, name="abonnementen")
app.command("tail")(tail_command)


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar=DEBUG_ENV,
            help="On an error, show the traceback and the libraries' log lines too (may "
            "stand anywhere on the command line).",
        ),
    ] = False,
) -> None:
    """Knooppunt integration hub."""
    root = logging.getLogger()
    if debug:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    elif not root.handlers:
        # A library's log line (aiokafka's "Unable connect to ...") is not for the user of a
        # command: its one error line says it. `run` sets up its own logging.
        root.addHandler(logging.NullHandler())


def _listening_socket(host: str, port: int) -> socket.socket:
    from hub.runtime.serving import listening_socket

    try:
        return listening_socket(host, port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another port with --port "
            "or KNOOPPUNT_HTTP_PORT"
        ) from exc


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

    from hub.kafka.local import kafka_reachable
    from hub.observability.logs import configure_logging
    from hub.runtime.assembly import build_hub
    from hub.runtime.serving import server_config

    given = {"http_host": host, "http_port": port, "roles": role}
    overrides = {k: v for k, v in given.items() if v is not None}
    # Everything `config check` checks, settings, secrets and files too: refused here with file
    # and line (a setting: its variable), before anything connects.
    settings, hub_config = checked(config, os.environ, overrides)
    configure_logging(settings.log_level)
    built = build_hub(settings, hub_config, announce=True, freeze_heap=True)
    if not kafka_reachable(settings.kafka_bootstrap_servers, timeout_s=5.0):
        raise KnooppuntError(
            f"Kafka at {settings.kafka_bootstrap_servers} does not answer; start the local "
            "broker with 'knooppunt kafka up', or set KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS to your "
            "cluster"
        )
    # A failed start (a sink refused, Kafka failing) is one line of ours, not uvicorn's
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
        raise built.start_refused
    if not server.started:
        raise typer.Exit(1)
    typer.echo("Knooppunt stopped cleanly (in-flight events finished, offsets committed)", err=True)


@app.command()
def demo(
    config: ConfigOption = DEMO_CONFIG,
    url: HubUrlOption = None,
    client: Annotated[str | None, typer.Option(help="API client id to send as.")] = None,
) -> None:
    """Send sample submissions to a running hub; print which topics each one reached. Exit 1
    when the hub cannot be reached or refuses a submission (the last line says why)."""
    from hub.devtools.demo import demo_main

    settings = Settings()
    loaded = load(config)
    target = url or f"http://{settings.http_host}:{settings.http_port}"
    demo_main(loaded, target, settings.kafka_bootstrap_servers, settings.topics, client, typer.echo)


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
        known = ", ".join(c.id for c in loaded.clients) or "none"
        raise UsageError(f"{config}: no API client {client or ''!r} (clients: {known})")
    typer.echo(make_token(chosen.id, client_secret(loaded, chosen)))


def main() -> None:
    """The ``knooppunt`` command. An error is one line on stderr, never a traceback (unless
    ``--debug``, which may stand anywhere on the command line); exit 2 when the command must
    change, 1 when what it needs failed (hub.cli.errors)."""
    app(args=move_debug_flag(sys.argv[1:]))
