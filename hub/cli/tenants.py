"""``knooppunt tenants list`` and ``knooppunt config check``: reading a hub config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import DEMO_CONFIG, ConfigOption, checked, load

__all__ = ["config_app", "tenants_app"]

config_app = typer.Typer(no_args_is_help=True, help="Check a hub config file.")
tenants_app = typer.Typer(no_args_is_help=True, help="The tenants (municipalities) of a config.")


@tenants_app.command("list")
def tenants_list(config: ConfigOption = DEMO_CONFIG) -> None:
    """Each tenant with its destinations, the clients that may act for it and its routes."""
    loaded = load(config)
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
def config_check(
    config: Annotated[Path, typer.Argument(help="Hub config (YAML), or a folder of them.")],
    secrets: Annotated[
        bool,
        typer.Option(
            "--secrets/--no-secrets",
            help="Check that the secrets it names are set (environment variables, secret "
            "files); --no-secrets for a check where they are not, such as CI.",
        ),
    ] = True,
) -> None:
    """Check a config as 'knooppunt run' does before it connects, without starting anything:
    the KNOOPPUNT_* settings, the config's fields, references, route conditions against the
    contracts, the secrets and files it names. Every problem is listed, each with file and line
    (a setting: its variable); exit 2 when there is one."""
    import os

    _, loaded = checked(config, os.environ, secrets=secrets)
    counts = ", ".join(
        _count(len(items), noun)
        for items, noun in (
            (loaded.tenants, "tenant"),
            (loaded.clients, "client"),
            (loaded.routes, "route"),
        )
    )
    typer.echo(f"{config}: ok ({counts})")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
