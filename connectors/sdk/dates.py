"""Dutch days: a municipality's dates (a zaak's startdatum, a document's creatiedatum) are days
in Europe/Amsterdam, whatever offset a system sent a moment in."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["DUTCH_TIME", "dutch_day"]

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")


def dutch_day(moment: str) -> date:
    """The Dutch day of an ISO 8601 / RFC 3339 ``moment`` (``2026-11-29T23:30:00+00:00`` is the
    30th); a moment without an offset is taken as its own day. ValueError when it is no time."""
    sent = datetime.fromisoformat(moment)
    return sent.astimezone(DUTCH_TIME).date() if sent.tzinfo else sent.date()
