"""``knooppunt connectors list|docs``: the connectors in connectors/registry.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import write_or_check

__all__ = ["connectors_app"]

connectors_app = typer.Typer(no_args_is_help=True, help="Source and sink connectors.")

REPO_DOCS = Path(__file__).resolve().parents[2] / "docs" / "connectors.md"


@connectors_app.command("list")
def connectors_list() -> None:
    """Every connector: name, kind, the contract types it accepts or emits, summary."""
    from connectors.registry import CONNECTORS

    for spec in CONNECTORS:
        patterns = spec.accepts if spec.kind == "sink" else spec.emits
        typer.echo(f"{spec.name:<16} {spec.kind:<7} {','.join(patterns):<36} {spec.summary}")


@connectors_app.command("docs")
def connectors_docs(
    check: Annotated[bool, typer.Option(help="Only check the file is up to date.")] = False,
    output: Annotated[Path, typer.Option(help="Where to write.")] = REPO_DOCS,
) -> None:
    """Write docs/connectors.md from every connector's spec (or, with --check, fail if stale)."""
    from connectors.registry import CONNECTORS
    from connectors.sdk.docs import render_connectors_doc

    text = render_connectors_doc(CONNECTORS)
    write_or_check(output, text, check, "knooppunt connectors docs")
