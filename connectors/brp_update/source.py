"""The ``brp-wijzigingen`` polling source: a ``nl.gemeente.brp.persoon-gewijzigd`` (v2) event
per followed person and finished day of their last change (connectors.brp_update.changes).

The checkpoint is the first day not reported yet (ISO date), or, within a long day, that day and
the last report published (``2026-11-26>``\\ *wijziging_id*; reports of a day go out sorted by
id). A poll asks the API for each finished day from there and the day after, in ascending order,
publishes the reports and moves the checkpoint past the last finished day, storing it on the way
every PROGRESS_EVERY reports and at each day's end; nothing is asked while the current day runs.
A restart resumes at the stored checkpoint: no day is skipped, and a crash repeats at most the
reports after the last stored one (with the same ids and data).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from connectors.brp_update.changes import (
    finished_days,
    first_day_to_report,
    last_changed_on,
    wijziging_id,
)
from connectors.brp_update.client import changed_since, missing_secret, update_client
from connectors.sdk import NewEvent, PollResult
from contracts.errors import KnooppuntError
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.brp_update.config import WijzigingenConfig
    from connectors.sdk import ConnectorContext

__all__ = ["CHANGED", "PROGRESS_EVERY", "WijzigingenSource", "build", "parse_checkpoint"]

CHANGED = contract_for("nl.gemeente.brp.persoon-gewijzigd", 2)
SOURCE_SYSTEM = "brp-update"
PROGRESS_EVERY = 100  # reports between two stored checkpoints within a day


def _now() -> datetime:
    return datetime.now(UTC)


def parse_checkpoint(checkpoint: str) -> tuple[date, str]:
    """``(day, last id published of that day)`` of a checkpoint (``""``: none of it yet).
    ValueError for a checkpoint this source did not write."""
    day, _, after = checkpoint.partition(">")
    return date.fromisoformat(day), after


class WijzigingenSource:
    """One tenant's poller. ``clock`` gives the aware current time (tests set it)."""

    def __init__(
        self,
        config: WijzigingenConfig,
        context: ConnectorContext,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """KnooppuntError, naming tenant, source and variable, when the secret ``auth`` names
        is not set: the hub refuses to start rather than fail every round."""
        missing = missing_secret(config, context)
        if missing:
            raise KnooppuntError(
                f"tenant {context.tenant.id}, source {context.destination}: {missing}"
            )
        self.config, self.clock = config, clock
        self.interval_s = config.interval_s
        self._settle = timedelta(seconds=config.settle_s)

    async def poll(self, context: ConnectorContext, checkpoint: str | None) -> PollResult:
        """Report every finished day from ``checkpoint`` (None: from ``start_date``, else the
        current day). Raises BrpUpdateError when the API refuses or does not answer; ValueError
        for a checkpoint this source did not write."""
        now = self.clock()
        if checkpoint is None:
            first = self.config.start_date or first_day_to_report(now, self._settle)
            checkpoint = first.isoformat()
        first, after = parse_checkpoint(checkpoint)
        days = finished_days(first, now, self._settle, self.config.max_days)
        if not days:
            return PollResult([], checkpoint)
        asked = [*days, days[-1] + timedelta(days=1)]
        answers: dict[date, set[str]] = {}
        client = update_client(self.config, context)
        try:
            for day in asked:  # ascending: see connectors.brp_update.changes
                answers[day], invalid = await changed_since(client, self.config, day)
                if invalid and day in days:  # the day after is counted as its own day
                    context.metrics.count("wijziging", "not_a_bsn")
                    context.log.warning("brp_change_not_a_bsn", items=invalid, day=str(day))
        finally:
            await client.aclose()
        events: list[NewEvent] = []
        progress: list[tuple[int, str]] = []
        for day in days:
            reports = sorted(
                (self._event(context.tenant.id, bsn, day) for bsn in last_changed_on(answers, day)),
                key=lambda event: event.event_id,
            )
            for event in reports:
                if day == first and after and event.event_id <= after:
                    continue  # published before the last stored checkpoint
                events.append(event)
                if len(events) % PROGRESS_EVERY == 0:
                    progress.append((len(events), f"{day.isoformat()}>{event.event_id}"))
            progress.append((len(events), (day + timedelta(days=1)).isoformat()))
        return PollResult(events, asked[-1].isoformat(), progress)

    def _event(self, tenant: str, bsn: str, day: date) -> NewEvent:
        report = wijziging_id(tenant, bsn, day)
        payload = {"wijziging_id": report, "bsn": bsn, "gewijzigd_op": day.isoformat()}
        return NewEvent(
            spec=CHANGED,
            payload=payload,
            tenant=tenant,
            event_id=report,
            source_system=SOURCE_SYSTEM,
        )


def build(config: WijzigingenConfig, context: ConnectorContext) -> WijzigingenSource:
    """The factory named in the connector's SPEC."""
    return WijzigingenSource(config, context)
