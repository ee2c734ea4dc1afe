"""``knooppunt blobs sweep``: remove the attachment bytes no event can still need (the same
sweep every delivery process runs each ``KNOOPPUNT_BLOB_SWEEP_INTERVAL_S``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer
from aiokafka.errors import KafkaError

from hub.blobs import BlobStoreUnavailableError
from hub.cli.common import ConfigOption, load
from hub.cli.errors import explain
from hub.errors import KnooppuntError
from hub.runtime.settings import Settings

__all__ = ["blobs_app"]

blobs_app = typer.Typer(no_args_is_help=True, help="Attachment bytes in the blob store.")


@blobs_app.command("sweep")
def blobs_sweep(
    config: ConfigOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be removed.")
    ] = False,
) -> None:
    """Remove blobs older than KNOOPPUNT_BLOB_RETENTION_S (30 days) that no event that may
    still be delivered names: not yet routed, not yet delivered, or a dead letter."""
    from hub.runtime.blob_store import blob_store_of
    from hub.runtime.blob_sweep import sweep_blobs

    hub_config = load(config)
    settings = Settings()
    store = blob_store_of(settings)
    retention = timedelta(seconds=settings.blob_retention_s)

    async def sweep() -> str:
        try:
            report = await sweep_blobs(
                store,
                settings.kafka_bootstrap_servers,
                hub_config,
                settings.topics,
                retention,
                dry_run=dry_run,
            )
        finally:
            await store.close()
        verb = "would remove" if dry_run else "removed"
        listed = [f"{verb} {key}" for key in report.removed]
        summary = (
            f"{report.stored} blob(s) stored, {report.expired} older than {_span(retention)}; "
            f"{verb} {len(report.removed)}, kept {report.expired - len(report.removed)} that "
            "pending events name"
        )
        return "\n".join([*listed, summary])

    try:
        typer.echo(asyncio.run(sweep()))
    except KafkaError as exc:
        raise KnooppuntError(f"{explain(exc)[1]}; nothing removed") from exc
    except BlobStoreUnavailableError as exc:
        raise KnooppuntError(str(exc)) from exc


def _span(retention: timedelta) -> str:
    """``30 days``, ``36 hours``, ``90 seconds``: the largest whole unit."""
    seconds = int(retention.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
