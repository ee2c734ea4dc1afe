"""What the BRP change poller decides, apart from any I/O: which days are finished, which
persons' last change fell on a day, and the stable id of each report.

The Haal Centraal BRP Update API answers ``GET /wijzigingen?vanaf=<date>`` with the
burgerservicenummers of followed persons changed on or after that date (features/
wijzigingen.feature of BRP-API/Haal-Centraal-BRP-Update-API): per person, not per change, and
with no end date. So for a finished day D, ``changed(D) - changed(D + 1)`` are exactly the
persons whose last change so far fell on D. Asked in ascending order of ``vanaf``, a change
made between two requests lands on its own (later) day, never on D; a person changed on D and
again before D was reported is reported once, for the later day (the back office reads the
person anew either way: the event carries who, not what).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DUTCH_TIME", "finished_days", "first_day_to_report", "last_changed_on", "wijziging_id"]

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
_NAMESPACE = uuid.UUID("6c1f3a52-0f4e-4b8e-9d27-3a1c5e7b9d04")


def first_day_to_report(now: datetime, settle: timedelta) -> date:
    """The first day not finished at ``now`` (aware): where a new poller starts. Changes from
    before it started are not reported (they predate the hub's watch)."""
    return (now.astimezone(DUTCH_TIME) - settle).date()


def finished_days(first: date, now: datetime, settle: timedelta, most: int) -> list[date]:
    """The days from ``first`` on that are over at ``now`` (aware), in order, at most ``most``.
    A day is over ``settle`` after its midnight, Dutch time."""
    end = first_day_to_report(now, settle)
    count = min(max((end - first).days, 0), most)
    return [first + timedelta(days=offset) for offset in range(count)]


def last_changed_on(changed_since: dict[date, set[str]], day: date) -> list[str]:
    """The persons whose last change fell on ``day``, sorted: changed since ``day`` but not
    since the day after. ``changed_since`` holds both answers."""
    return sorted(changed_since[day] - changed_since[day + timedelta(days=1)])


def wijziging_id(tenant: str, bsn: str, day: date) -> str:
    """The stable id of one report (UUIDv5, RFC 9562 §5.5): the same tenant, person and day give
    the same id in every poll and every process."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant}\n{bsn}\n{day.isoformat()}"))
