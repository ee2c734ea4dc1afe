"""What every command group shares: the --config and --url options, loading a config, generated
documents. Errors are raised, and said in one line by hub.cli.errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hub.config import HubConfig
    from hub.errors import ConfigIssue
    from hub.runtime.settings import Settings

__all__ = ["DEMO_CONFIG", "ConfigOption", "HubUrlOption", "checked", "hub_url", "load"]

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
        raise typer.BadParameter(f"{value!r}: give the hub's base URL, e.g. http://127.0.0.1:8080")
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


def _settings(overrides: Mapping[str, object]) -> tuple[Settings | None, list[ConfigIssue]]:
    """The process settings (``KNOOPPUNT_*``, then ``overrides``), or each of their problems
    as an issue of its variable: ``KNOOPPUNT_HTTP_PORT: setting http_port: ...``."""
    from pydantic import ValidationError

    from hub.cli.errors import setting_problems
    from hub.errors import ConfigIssue
    from hub.runtime.settings import Settings

    try:
        return Settings(**overrides), []  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = setting_problems(exc)
        return None, [
            ConfigIssue(f"KNOOPPUNT_{name.upper()}", None, f"setting {name}", message)
            for name, message in problems
        ]


def checked(
    path: Path,
    environ: Mapping[str, str],
    overrides: Mapping[str, object] | None = None,
    secrets: bool = True,
) -> tuple[Settings, HubConfig]:
    """What ``knooppunt run`` reads before it connects, checked as ``config check`` checks it:
    the process settings and the config at ``path`` (its secrets and files too, unless not
    ``secrets``). ConfigError lists every problem of both at once, the settings' first, one
    line each."""
    from hub.config import check_config
    from hub.errors import ConfigError

    settings, issues = _settings(overrides or {})
    try:
        config = check_config(path, environ, secrets=secrets)
    except ConfigError as exc:
        issues += exc.issues
    if issues or settings is None:
        raise ConfigError(issues)
    return settings, config


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
