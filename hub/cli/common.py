"""What every command group shares: the --config and --url options, loading a config, generated
documents. Errors are raised, and said in one line by hub.cli.errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

if TYPE_CHECKING:
    from hub.config import HubConfig

__all__ = ["DEMO_CONFIG", "ConfigOption", "HubUrlOption", "hub_url", "load"]

DEMO_CONFIG = Path("deploy/demo/config.yaml")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="KNOOPPUNT_CONFIG", help="Hub config (YAML)."),
]


def hub_url(value: str | None) -> str | None:
    """A hub's base URL as given with ``--url``: ``http(s)://host[:port]``, trailing slash
    dropped. Raises typer.BadParameter (exit 2, one line) for anything else, before a request
    is tried: a typo is not a hub that does not answer."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a port that is not a number, a bracket left open
        port_ok, parts = False, urlsplit("")
    if parts.scheme not in {"http", "https"} or not parts.hostname or not port_ok:
        raise typer.BadParameter(f"{value!r}: give the hub's base URL, e.g. http://127.0.0.1:8000")
    return value.rstrip("/")


HubUrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        callback=hub_url,
        help="The hub's base URL [http://KNOOPPUNT_HTTP_HOST:KNOOPPUNT_HTTP_PORT].",
    ),
]


def load(path: Path) -> HubConfig:
    """The config at ``path``; ConfigError (every problem, each with file and line) if refused."""
    from hub.config import load_config

    return load_config(path)


def write_or_check(output: Path, text: str, check: bool, regenerate: str) -> None:
    """Write a generated document, or with ``check`` exit 1 when ``output`` differs from it
    (``make lint`` runs the checks, so a stale document fails the build)."""
    if check:
        if not output.is_file() or output.read_text() != text:
            typer.echo(f"error: {output} is out of date; run '{regenerate}'", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date")
        return
    output.write_text(text)
    typer.echo(f"wrote {output}")
