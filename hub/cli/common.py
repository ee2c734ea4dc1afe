"""What every command group shares: the --config option, loading a config, generated documents.
Errors are raised, and said in one line by hub.cli.errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hub.config import HubConfig

__all__ = ["DEMO_CONFIG", "ConfigOption", "load"]

DEMO_CONFIG = Path("deploy/demo/config.yaml")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="KNOOPPUNT_CONFIG", help="Hub config (YAML)."),
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
