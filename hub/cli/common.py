"""What every command group shares: the --config option, loading a config, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.errors import ConfigError

if TYPE_CHECKING:
    from hub.config import HubConfig

__all__ = ["DEMO_CONFIG", "ConfigOption", "fail", "load"]

DEMO_CONFIG = Path("deploy/demo/config.yaml")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="KNOOPPUNT_CONFIG", help="Hub config (YAML)."),
]


def fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(2)


def load(path: Path) -> HubConfig:
    from hub.config import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise fail(exc) from exc
