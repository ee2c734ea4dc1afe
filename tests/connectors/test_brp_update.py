"""The BRP Update API connectors against a real HTTP server speaking that API (FakeBrpUpdate):
the ``brp-wijzigingen`` poller (the scenarios of the API's wijzigingen.feature, days passing on
an injected clock) and the ``brp-volgindicaties`` sink (the shared conformance suite, and the
follow only ever lengthened)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pytest

from connectors.brp_update import VOLGINDICATIES, WIJZIGINGEN
from connectors.brp_update.client import BrpUpdateError
from connectors.brp_update.config import VolgindicatiesConfig, WijzigingenConfig
from connectors.brp_update.source import WijzigingenSource
from connectors.sdk import (
    ConnectorContext,
    Delivered,
    Permanent,
    Retryable,
    Secrets,
    Throttled,
)
from connectors.sdk.conformance import TENANT, SinkConformance
from contracts.errors import KnooppuntError
from contracts.registry import contract_for
from tests.fakes.brp_update import FakeBrpUpdate, running_brp_update
from tests.samples import OTHER_VALID_BSN, VALID_BSN

KEY_ENV = "KNOOPPUNT_0363_BRP_UPDATE_KEY"
ENVIRON = {KEY_ENV: "sleutel-0363"}
A, B, C = VALID_BSN, OTHER_VALID_BSN, "999992806"
MONDAY = date(2021, 3, 15)  # wijzigingen.feature asks on 15 March 2021


def _settings(fake: FakeBrpUpdate, **more: Any) -> dict[str, Any]:
    auth = {"type": "header", "header": "X-API-KEY", "value_env": KEY_ENV}
    return {"url": fake.url, "auth": auth, "settle_s": 0, **more}


def _context(environ: dict[str, str] = ENVIRON) -> ConnectorContext:
    return ConnectorContext(TENANT, "brp-wijzigingen", "brp-wijzigingen", Secrets(environ))


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def next_day(self, days: int = 1) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def fake() -> Iterator[FakeBrpUpdate]:
    with running_brp_update({"sleutel-0363": "gemeente-0363"}) as running:
        yield running


def _poller(
    fake: FakeBrpUpdate, clock: Clock, context: ConnectorContext | None = None, **more: Any
) -> WijzigingenSource:
    config = WijzigingenConfig.model_validate(_settings(fake, **more))
    return WijzigingenSource(config, context or _context(), clock)


def _at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=UTC)


async def test_each_person_is_reported_once_for_the_day_of_their_last_change(
    fake: FakeBrpUpdate,
) -> None:
    for bsn in (A, B, C):
        fake.follow("gemeente-0363", bsn, date(2021, 3, 5))
    fake.change(A, date(2021, 3, 10))
    fake.change(A, date(2021, 3, 12))  # two changes, one report (feature: "exact één")
    fake.change(B, date(2021, 3, 12))
    fake.change(B, date(2021, 3, 13))  # its last change is on the 13th
    fake.change(C, date(2021, 3, 4))  # before the follow: never reported
    fake.today = MONDAY
    clock = Clock(_at_noon(MONDAY))
    poller = _poller(fake, clock)

    result = await poller.poll(_context(), "2021-03-10")

    reported = [(e.payload["bsn"], e.payload["gewijzigd_op"]) for e in result.events]
    assert reported == [(A, "2021-03-12"), (B, "2021-03-13")]
    assert result.next_checkpoint == "2021-03-15"  # today is not over: asked again tomorrow
    spec = contract_for("nl.gemeente.brp.persoon-gewijzigd", 2)
    for event in result.events:
        assert event.spec is spec
        assert event.event_id == event.payload["wijziging_id"]
        spec.validate(event.payload)
    # ascending order of vanaf: a change between two requests lands on its own, later, day
    asked = [path for method, path, _ in fake.received() if method == "GET"]
    assert asked == [
        f"/haalcentraal/api/brpupdate/wijzigingen?vanaf=2021-03-{d}" for d in range(10, 16)
    ]
    headers = fake.received()[0][2]
    assert headers["x-api-key"] == "sleutel-0363"
    assert headers["x-origin-oin"] == TENANT.oin


async def test_days_pass_without_a_gap_or_a_repeat(fake: FakeBrpUpdate) -> None:
    fake.follow("gemeente-0363", A, date(2021, 3, 1))
    fake.follow("gemeente-0363", B, date(2021, 3, 1))
    fake.today = MONDAY
    clock = Clock(_at_noon(MONDAY))
    poller = _poller(fake, clock)
    checkpoint = (await poller.poll(_context(), None)).next_checkpoint
    assert checkpoint == "2021-03-15"  # a new poller starts today
    fake.change(A, MONDAY)
    assert (await poller.poll(_context(), checkpoint)).events == []  # the day is not over
    fake.change(B, MONDAY)  # later the same day

    reports: list[tuple[str, str]] = []
    for changes_today in ([A], [A], []):  # A changes on the 16th and 17th too, then not
        clock.next_day()
        fake.today = clock.now.date()
        for bsn in changes_today:
            fake.change(bsn, fake.today)
        result = await poller.poll(_context(), checkpoint)
        reports += [(e.payload["bsn"], e.payload["gewijzigd_op"]) for e in result.events]
        checkpoint = result.next_checkpoint
        again = await poller.poll(_context(), checkpoint)  # the next interval, same day
        assert again.events == []
        assert again.next_checkpoint == checkpoint

    # A changed on the 15th, 16th and 17th: reported once, for the 17th, once that day is
    # over with no change since (a back office reads the person anew: nothing is lost); B's
    # change on the 15th once, the next day.
    assert reports == [(B, "2021-03-15"), (A, "2021-03-17")]
    assert checkpoint == "2021-03-18"


async def test_a_bad_item_is_left_out_and_counted_never_stalling_the_poller(
    fake: FakeBrpUpdate,
) -> None:
    fake.follow("gemeente-0363", A, date(2021, 3, 1))
    fake.follow("gemeente-0363", "123456789", date(2021, 3, 1))  # fails the 11-proef
    fake.change(A, date(2021, 3, 14))
    fake.change("123456789", date(2021, 3, 14))
    fake.today = MONDAY
    counted: list[tuple[str, str]] = []

    class Counting:
        def count(self, name: str, outcome: str) -> None:
            counted.append((name, outcome))

    context = ConnectorContext(
        TENANT, "brp-wijzigingen", "brp-wijzigingen", Secrets(ENVIRON), metrics=Counting()
    )
    result = await _poller(fake, Clock(_at_noon(MONDAY)), context).poll(context, "2021-03-14")
    assert [e.payload["bsn"] for e in result.events] == [A]
    assert ("wijziging", "not_a_bsn") in counted


@pytest.mark.parametrize(
    ("status", "environ"),
    [(503, ENVIRON), (401, {KEY_ENV: "verkeerd"})],
    ids=["outage", "wrong-key"],
)
async def test_a_refusing_api_fails_the_round_and_the_checkpoint_stays(
    fake: FakeBrpUpdate, status: int | None, environ: dict[str, str]
) -> None:
    fake.fail_with = status
    fake.today = MONDAY
    context = _context(environ)
    with pytest.raises(BrpUpdateError) as raised:
        await _poller(fake, Clock(_at_noon(MONDAY)), context).poll(context, "2021-03-10")
    assert raised.value.failure.reason
    assert VALID_BSN not in str(raised.value)


def test_a_secret_that_is_not_set_refuses_the_start(fake: FakeBrpUpdate) -> None:
    # Was: the hub started, then every round failed on it, for ever.
    with pytest.raises(KnooppuntError, match=f"source brp-wijzigingen: auth: .*{KEY_ENV}"):
        _poller(fake, Clock(_at_noon(MONDAY)), _context({}))
    with pytest.raises(KnooppuntError, match=f"destination brp-volgen: auth: .*{KEY_ENV}"):
        _sink(fake, environ={})


async def test_a_long_day_stores_its_progress_and_resumes_after_it(fake: FakeBrpUpdate) -> None:
    persons = [_valid_bsn(n) for n in range(250)]
    for bsn in persons:
        fake.follow("gemeente-0363", bsn, date(2021, 3, 1))
        fake.change(bsn, date(2021, 3, 14))
    fake.today = MONDAY
    poller = _poller(fake, Clock(_at_noon(MONDAY)))
    result = await poller.poll(_context(), "2021-03-14")
    ids = [event.event_id for event in result.events]
    assert ids == sorted(ids)
    assert len(ids) == 250
    assert result.progress == [
        (100, f"2021-03-14>{ids[99]}"),
        (200, f"2021-03-14>{ids[199]}"),
        (250, "2021-03-15"),
    ]
    resumed = await poller.poll(_context(), f"2021-03-14>{ids[99]}")  # after a crash
    assert [event.event_id for event in resumed.events] == ids[100:]


def _valid_bsn(number: int) -> str:
    """A BSN passing the 11-proef, distinct per ``number`` (< 1,000,000)."""
    for eight in (f"2{number:07d}", f"3{number:07d}"):
        total = sum(int(d) * w for d, w in zip(eight, range(9, 1, -1), strict=True))
        if total % 11 < 10:  # the check digit; one of the two first digits gives one
            return eight + str(total % 11)
    raise AssertionError(number)


# --- the brp-volgindicaties sink ---------------------------------------------------------

_BSNS = [VALID_BSN, OTHER_VALID_BSN, "999992806", "999990962"]


@dataclass
class VolgConformanceFake:
    fake: FakeBrpUpdate

    def settings(self) -> dict[str, Any]:
        return {k: v for k, v in _settings(self.fake).items() if k != "settle_s"}

    def fail_next(self, kind: Literal["retryable", "permanent"]) -> None:
        self.fake.fail_next.append(503 if kind == "retryable" else 400)

    def effects(self) -> int:
        return self.fake.effects


@contextmanager
def _conformance_fake() -> Iterator[VolgConformanceFake]:
    with running_brp_update({"sleutel-0363": "gemeente-0363"}) as fake:
        yield VolgConformanceFake(fake)


def _submission_of(number: int) -> dict[str, Any]:
    example = dict(contract_for("nl.gemeente.formulier.ingediend", 1).example)
    example["authentication"] = {**example["authentication"], "bsn": _BSNS[number - 1]}
    return example


CONFORMANCE = SinkConformance(
    spec=VOLGINDICATIES,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "url"),
        ({"url": "https://brp.example", "dagen": 0}, "dagen"),
        ({"url": "https://brp.example", "timeout_s": 0}, "timeout_s"),
    ],
    environ=ENVIRON,
    payload=_submission_of,
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


def _sink(fake: FakeBrpUpdate, environ: dict[str, str] = ENVIRON, **more: Any) -> Any:
    settings = {k: v for k, v in _settings(fake, **more).items() if k != "settle_s"}
    config = VolgindicatiesConfig.model_validate(settings)
    assert VOLGINDICATIES.build is not None
    context = ConnectorContext(TENANT, "brp-volgen", "brp-volgindicaties", Secrets(environ))
    return VOLGINDICATIES.build(config, context)


async def test_a_submission_follows_its_citizen_and_an_older_one_never_shortens_it(
    fake: FakeBrpUpdate,
) -> None:
    sink = _sink(fake, dagen=30)
    newer = CONFORMANCE.delivery(1)
    older_event = replace(newer.event, time=newer.event.time - timedelta(days=10))
    older = replace(newer, event=older_event, idempotency_key=str(uuid.uuid4()))
    try:
        first = await sink.deliver(newer)
        follow = fake.follows[("gemeente-0363", VALID_BSN)]
        assert isinstance(first, Delivered)
        assert follow.einddatum == date(2026, 12, 29)  # the submission's day + 30
        assert VALID_BSN not in str(first.references)
        second = await sink.deliver(older)
    finally:
        await sink.close()
    assert isinstance(second, Delivered)
    assert fake.follows[("gemeente-0363", VALID_BSN)].einddatum == date(2026, 12, 29)
    puts = [path for method, path, _ in fake.received() if method == "PUT"]
    assert puts == [f"/haalcentraal/api/brpupdate/volgindicaties/{VALID_BSN}"]


async def test_a_submission_without_a_citizen_follows_no_one(fake: FakeBrpUpdate) -> None:
    payload = dict(_submission_of(1))
    payload["authentication"] = {"method": "eherkenning", "kvk": "68750110"}
    suite = SinkConformance(
        spec=VOLGINDICATIES, fake=_conformance_fake, invalid_configs=[], payload=lambda _n: payload
    )
    sink = _sink(fake)
    try:
        outcome = await sink.deliver(suite.delivery(1))
    finally:
        await sink.close()
    assert isinstance(outcome, Delivered)
    assert fake.received() == []


@pytest.mark.parametrize(
    ("status", "kind"), [(503, Retryable), (429, Throttled), (400, Permanent), (403, Permanent)]
)
async def test_refusals_are_classified(fake: FakeBrpUpdate, status: int, kind: type) -> None:
    fake.fail_next.extend([404, status])  # GET: not followed yet; then the PUT is refused
    sink = _sink(fake)
    try:
        outcome = await sink.deliver(CONFORMANCE.delivery(1))
    finally:
        await sink.close()
    assert isinstance(outcome, kind)


def test_the_connectors_declare_themselves() -> None:
    assert WIJZIGINGEN.poll is not None
    assert WIJZIGINGEN.emits == ("nl.gemeente.brp.persoon-gewijzigd",)
    assert VOLGINDICATIES.pushes
    assert VOLGINDICATIES.accepts_contract("nl.gemeente.formulier.ingediend")
    assert not VOLGINDICATIES.accepts_contract("nl.overheid.zaken")
