"""``knooppunt metrics list|docs``: the metrics a hub exports (hub.observability.metrics)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import write_or_check

__all__ = ["metrics_app"]

metrics_app = typer.Typer(no_args_is_help=True, help="The Prometheus metrics a hub exports.")

REPO_DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


@metrics_app.command("list")
def metrics_list() -> None:
    """Every metric: name, type, labels."""
    from hub.observability.metrics import Metrics

    for info in Metrics().catalog():
        typer.echo(f"{info.name:<52} {info.type:<9} {','.join(info.labels)}")


@metrics_app.command("docs")
def metrics_docs(
    check: Annotated[bool, typer.Option(help="Only check the file is up to date.")] = False,
    output: Annotated[Path, typer.Option(help="Where to write.")] = REPO_DOCS,
) -> None:
    """Write docs/metrics.md from the metrics' definitions (or, with --check, fail if stale)."""
    from hub.observability.metrics import Metrics
    from hub.observability.metrics_doc import render_metrics_doc

    write_or_check(output, render_metrics_doc(Metrics().catalog()), check, "knooppunt metrics docs")
