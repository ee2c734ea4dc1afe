"""Runs a polling source for one tenant: poll, publish, await acks, then store the checkpoint.

The order is what makes it lossless: the checkpoint moves only after Kafka acknowledged every
event the poll returned. A crash (or a failed publish) in between polls the same events again
after the restart; they carry the same event ids, so downstream idempotency sees one event each.
Nothing is ever skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from hub.connector_host.checkpoints import checkpoint_key
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from connectors.sdk import ConnectorContext, PollingSource
    from connectors.sdk.source import Publish
    from hub.connector_host.checkpoints import CheckpointStore

__all__ = ["PollingRunner"]

log = get_logger(__name__)


class PollingRunner:
    """One polling source (``name``) for one tenant (``context.tenant``)."""

    def __init__(
        self,
        name: str,
        source: PollingSource,
        context: ConnectorContext,
        publish: Publish,
        store: CheckpointStore,
    ) -> None:
        self.name, self.source, self.context = name, source, context
        self.publish, self.store = publish, store
        self.key = checkpoint_key(name, context.tenant.id)

    async def poll_once(self) -> int:
        """One round: poll from the stored checkpoint, publish each event in order (awaiting
        its ack; storing each checkpoint of ``progress`` as its events are on Kafka), then
        store the next checkpoint. Returns how many events were published.
        Raises what poll or publish raised; the checkpoint then stays where it was."""
        result = await self.source.poll(self.context, self.store.get(self.key))
        on_the_way = dict(result.progress)
        for count, event in enumerate(result.events, start=1):
            await self.publish(event)
            if count in on_the_way and on_the_way[count] != self.store.get(self.key):
                await self.store.save(self.key, on_the_way[count])
        if result.next_checkpoint != self.store.get(self.key):
            await self.store.save(self.key, result.next_checkpoint)
        if result.events:
            log.debug(
                "source_polled",
                source=self.name,
                tenant=self.context.tenant.id,
                events=len(result.events),
            )
        return len(result.events)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every ``source.interval_s`` until ``stop`` is set; a failed round is logged and
        tried again after the interval. A round that found events polls again at once."""
        while not stop.is_set():
            found = 0
            try:
                found = await self.poll_once()
            except Exception as exc:
                log.warning(
                    "source_poll_failed",
                    source=self.name,
                    tenant=self.context.tenant.id,
                    error_class=type(exc).__name__,
                    error=redact_text(str(exc)),
                )
            if found:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.source.interval_s)
