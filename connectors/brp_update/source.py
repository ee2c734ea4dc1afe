"""The ``brp-wijzigingen`` polling source: a ``nl.gemeente.brp.persoon-gewijzigd`` (v2) event
per followed person and finished day of their last change (connectors.brp_update.changes).

The checkpoint is the first day not reported yet (ISO date). A poll asks the API for each
finished day from there and the day after, in ascending order, publishes the reports and moves
the checkpoint past the last finished day; nothing is asked while the current day runs. A
restart resumes at the stored day: no day is skipped and none reported twice (a crash between
publish and checkpoint publishes the same events again, with the same ids and data).
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
from connectors.brp_update.client import changed_since, update_client
from connectors.sdk import NewEvent, PollResult
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.brp_update.config import WijzigingenConfig
    from connectors.sdk import ConnectorContext

__all__ = ["CHANGED", "WijzigingenSource", "build"]

CHANGED = contract_for("nl.gemeente.brp.persoon-gewijzigd", 2)
SOURCE_SYSTEM = "brp-update"


def _now() -> datetime:
    return datetime.now(UTC)


class WijzigingenSource:
    """One tenant's poller. ``clock`` gives the aware current time (tests set it)."""

    def __init__(self, config: WijzigingenConfig, clock: Callable[[], datetime] = _now) -> None:
        self.config, self.clock = config, clock
        self.interval_s = config.interval_s
        self._settle = timedelta(seconds=config.settle_s)

    async def poll(self, context: ConnectorContext, checkpoint: str | None) -> PollResult:
        """Report every finished day from ``checkpoint`` (None: from ``start_date``, else the
        current day).
        Raises BrpUpdateError when the API refuses or does not answer; ValueError for a
        checkpoint that is no ISO date."""
        now = self.clock()
        if checkpoint is None:
            first = self.config.start_date or first_day_to_report(now, self._settle)
            checkpoint = first.isoformat()
        first = date.fromisoformat(checkpoint)
        days = finished_days(first, now, self._settle, self.config.max_days)
        if not days:
            return PollResult([], checkpoint)
        asked = [*days, days[-1] + timedelta(days=1)]
        answers: dict[date, set[str]] = {}
        client = update_client(self.config, context)
        try:
            for day in asked:  # ascending: see connectors.brp_update.changes
                answers[day], invalid = await changed_since(client, self.config, day)
                if invalid:
                    context.metrics.count("wijziging", "not_a_bsn")
                    context.log.warning("brp_change_not_a_bsn", items=invalid, day=str(day))
        finally:
            await client.aclose()
        events = [
            self._event(context.tenant.id, bsn, day)
            for day in days
            for bsn in last_changed_on(answers, day)
        ]
        return PollResult(events, asked[-1].isoformat())

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


def build(config: WijzigingenConfig) -> WijzigingenSource:
    """The factory named in the connector's SPEC."""
    return WijzigingenSource(config)
