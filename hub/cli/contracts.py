"""``knooppunt contracts list|check|snapshot|export|docs``: the event contracts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import write_or_check
from hub.runtime.settings import Settings

__all__ = ["contracts_app"]

contracts_app = typer.Typer(no_args_is_help=True, help="The event contracts and their versions.")

REPO_DOCS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"
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
    from hub.kafka.topics import TopicNames

    text = render_contracts_doc(TopicNames().contract)
    write_or_check(output, text, check, "knooppunt contracts docs")
