"""``knooppunt blobs sweep``: remove the attachment bytes no event can still need (the same
sweep every delivery process runs each ``KNOOPPUNT_BLOB_SWEEP_INTERVAL_S``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Annotated

import typer
from aiokafka.errors import KafkaError

from hub.blobs import BlobStoreUnavailableError
from hub.cli.common import ConfigOption, load
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
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the one line below says it
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
        return (
            f"{report.stored} blob(s) stored, {report.expired} older than {retention.days} "
            f"day(s); {verb} {len(report.removed)}, kept "
            f"{report.expired - len(report.removed)} that pending events name"
        )

    try:
        typer.echo(asyncio.run(sweep()))
    except KafkaError as exc:
        raise KnooppuntError(
            f"Kafka at {settings.kafka_bootstrap_servers} does not answer ({exc}); nothing removed"
        ) from exc
    except BlobStoreUnavailableError as exc:
        raise KnooppuntError(f"the blob store cannot be used: {exc}; nothing removed") from exc
