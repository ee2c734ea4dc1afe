"""The BRP change poller's decisions, apart from I/O (connectors.brp_update.changes and the
volgindicatie sink's einddatum rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from connectors.brp_update.changes import (
    DUTCH_TIME,
    finished_days,
    first_day_to_report,
    last_changed_on,
    wijziging_id,
)
from connectors.brp_update.sink import einddatum_to_send

HOUR = timedelta(hours=1)
D = date(2026, 3, 12)


def test_a_day_is_finished_settle_after_its_dutch_midnight() -> None:
    # 00:30 Dutch time on the 13th is 23:30 UTC on the 12th (CET, UTC+1).
    half_past_midnight = datetime(2026, 3, 12, 23, 30, tzinfo=UTC)
    assert finished_days(D, half_past_midnight, timedelta(0), 31) == [D]
    assert finished_days(D, half_past_midnight, HOUR, 31) == []
    assert finished_days(D, half_past_midnight + HOUR, HOUR, 31) == [D]


def test_summer_time_is_dutch_time_too() -> None:
    # 00:30 on 1 July in Amsterdam is 22:30 UTC on 30 June (CEST, UTC+2).
    july = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    assert first_day_to_report(july, timedelta(0)) == date(2026, 7, 1)
    assert finished_days(date(2026, 6, 30), july, timedelta(0), 31) == [date(2026, 6, 30)]


def test_catching_up_reports_at_most_max_days_in_order() -> None:
    now = datetime(2026, 3, 20, 12, tzinfo=DUTCH_TIME)
    assert finished_days(D, now, HOUR, 3) == [D, D + timedelta(1), D + timedelta(2)]
    assert len(finished_days(D, now, HOUR, 31)) == 8
    assert finished_days(date(2026, 3, 21), now, HOUR, 31) == []  # a checkpoint ahead: nothing


def test_a_person_is_reported_for_the_day_of_their_last_change() -> None:
    since = {
        D: {"999993653", "999990019", "999992806"},
        D + timedelta(1): {"999990019"},  # changed again the next day: reported for that day
    }
    assert last_changed_on(since, D) == ["999992806", "999993653"]


def test_the_report_id_is_stable_and_differs_per_tenant_person_and_day() -> None:
    first = wijziging_id("0363", "999993653", D)
    assert first == wijziging_id("0363", "999993653", D)
    others = {
        wijziging_id("0599", "999993653", D),
        wijziging_id("0363", "999990019", D),
        wijziging_id("0363", "999993653", D + timedelta(1)),
    }
    assert first not in others
    assert len(others) == 3


def test_a_follow_is_only_ever_lengthened() -> None:
    today = date(2026, 11, 29)
    later, sooner = date(2027, 11, 29), date(2027, 1, 1)
    assert einddatum_to_send(later, None, today) == (True, later)
    assert einddatum_to_send(later, {"einddatum": str(sooner)}, today) == (True, later)
    assert einddatum_to_send(sooner, {"einddatum": str(later)}, today) == (False, None)
    assert einddatum_to_send(later, {"einddatum": str(later)}, today) == (False, None)
    assert einddatum_to_send(later, {"burgerservicenummer": "x"}, today) == (False, None)
    assert einddatum_to_send(None, {"einddatum": str(later)}, today) == (True, None)
    # A follow that has ended is no follow: a new one is set.
    assert einddatum_to_send(later, {"einddatum": str(today)}, today) == (True, later)


def test_an_einddatum_that_has_passed_is_never_sent() -> None:
    # The API reads an einddatum of today as "end the follow now".
    today = date(2026, 11, 29)
    assert einddatum_to_send(today, None, today) == (False, None)
    assert einddatum_to_send(date(2026, 1, 1), None, today) == (False, None)
