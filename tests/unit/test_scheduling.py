"""The delivery engine's pure decisions: offsets to commit, order per key, the circuit breaker."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hub.delivery.blocks import BLOCKED, BlockRecord
from hub.delivery.scheduling import BreakerState, CircuitBreaker, DestinationQueue, OffsetTracker


def test_commit_stops_at_the_lowest_unfinished_offset() -> None:
    tracker = OffsetTracker()
    assert tracker.committable() is None
    for offset in range(10, 15):
        tracker.started(offset)
    assert tracker.committable() == 10
    tracker.finished(12)
    tracker.finished(11)
    assert tracker.committable() == 10  # 10 is still out: a crash must deliver it again
    tracker.finished(10)
    assert tracker.committable() == 13
    tracker.finished(14)
    tracker.finished(13)
    assert tracker.committable() == 15  # all done: the next record to read


def test_any_finishing_order_commits_exactly_what_is_done() -> None:
    rng = random.Random(7)
    tracker = OffsetTracker()
    offsets = list(range(200))
    for offset in offsets:
        tracker.started(offset)
    done: set[int] = set()
    for offset in rng.sample(offsets, len(offsets)):
        tracker.finished(offset)
        done.add(offset)
        lowest_open = min(set(offsets) - done, default=200)
        assert tracker.committable() == lowest_open


def test_never_two_of_one_key_in_flight_and_order_per_key() -> None:
    queue: DestinationQueue[str] = DestinationQueue(max_in_flight=3)
    for key, item in [(b"a", "a1"), (b"a", "a2"), (b"b", "b1"), (b"a", "a3"), (b"c", "c1")]:
        queue.add(key, item)
    started = [queue.next_ready(), queue.next_ready(), queue.next_ready()]
    assert [q.item for q in started if q] == ["a1", "b1", "c1"]  # a2 waits behind a1
    assert queue.next_ready() is None  # three in flight: the limit
    queue.finished(b"b")
    assert queue.next_ready() is None  # a2 and a3 wait for a1: a3 never overtakes a2
    queue.finished(b"a")
    second = queue.next_ready()
    assert second is not None
    assert second.item == "a2"


def test_a_random_schedule_keeps_per_key_order_and_the_limit() -> None:
    rng = random.Random(11)
    queue: DestinationQueue[tuple[bytes, int]] = DestinationQueue(max_in_flight=4)
    keys = [b"k%d" % i for i in range(5)]
    counters = dict.fromkeys(keys, 0)
    for _ in range(300):
        key = rng.choice(keys)
        queue.add(key, (key, counters[key]))
        counters[key] += 1
    seen = dict.fromkeys(keys, -1)
    in_flight: list[tuple[bytes, int]] = []
    while queue.waiting or in_flight:
        ready = queue.next_ready()
        while ready is not None:
            key, number = ready.item
            assert number == seen[key] + 1, "a key's events started out of order"
            assert key not in [k for k, _ in in_flight], "two of one key in flight"
            seen[key] = number
            in_flight.append(ready.item)
            ready = queue.next_ready()
        assert len(in_flight) <= 4
        done = in_flight.pop(rng.randrange(len(in_flight)))
        queue.finished(done[0])
    assert seen == {key: counters[key] - 1 for key in keys}


def test_the_breaker_opens_waits_probes_once_and_closes() -> None:
    breaker = CircuitBreaker(failure_threshold=3, break_s=30.0)
    for now in (0.0, 1.0):
        assert breaker.allows(now)
        assert not breaker.failed(now)
    assert breaker.failed(2.0)  # the third failure in a row opens it
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allows(10.0)
    assert breaker.reopens_in(10.0) == 22.0
    assert breaker.allows(32.0)  # the break is over: one probe
    assert breaker.state.value == "half_open"  # allows() moved it on
    assert not breaker.allows(32.5)  # only one
    breaker.succeeded()
    assert breaker.state.value == "closed"
    assert breaker.allows(33.0)


def test_a_failed_probe_opens_the_breaker_again_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, break_s=5.0)
    breaker.failed(0.0)
    breaker.succeeded()
    assert not breaker.failed(1.0)  # the count started again after the success
    assert breaker.failed(2.0)
    assert breaker.allows(7.0)
    assert breaker.failed(7.5)  # the probe failed
    assert breaker.state is BreakerState.OPEN
    assert breaker.reopens_in(8.0) == 4.5


def test_a_destination_failing_for_block_after_is_blocked_until_released() -> None:
    week = 7 * 24 * 3600.0
    breaker = CircuitBreaker(failure_threshold=2, break_s=15.0)
    breaker.failed(0.0)
    breaker.failed(1.0)  # open
    assert not breaker.due_for_block(week - 1, week)
    assert breaker.due_for_block(week, week)  # failing since the first failure, a week ago
    breaker.block()
    assert breaker.state is BreakerState.BLOCKED
    assert not breaker.allows(week + 10_000)  # no probe, however long the wait
    breaker.succeeded()  # a call that started before the block does not lift it
    assert breaker.state is BreakerState.BLOCKED
    breaker.release()
    assert breaker.state.value == "closed"  # (mypy narrowed the state above)
    assert breaker.allows(week + 10_001)
    assert breaker.failing_since is None
    assert breaker.failures == 0


def test_a_success_restarts_the_week() -> None:
    week = 7 * 24 * 3600.0
    breaker = CircuitBreaker(failure_threshold=1, break_s=15.0)
    breaker.failed(0.0)
    assert breaker.allows(20.0)  # half-open probe
    breaker.succeeded()
    breaker.failed(week - 5)
    assert not breaker.due_for_block(week + 1, week)  # failing for 6 s, not a week


def test_block_records_round_trip_and_anything_else_is_ignored() -> None:
    record = BlockRecord("p.knooppunt.deliver.0363.zaken", BLOCKED, datetime.now(UTC), "engine")
    assert BlockRecord.parse(b"p.knooppunt.deliver.0363.zaken", record.value()) == record
    for key, value in [
        (None, record.value()),
        (b"k", None),  # a tombstone
        (b"k", b"not json"),
        (b"k", b'{"state": "gone", "at": "2026-01-01T00:00:00+00:00", "by": "x"}'),
        (b"k", b'{"state": "blocked", "at": "yesterday", "by": "x"}'),
        (b"\xff", record.value()),
        (b"k", b"[1, 2]"),
    ]:
        assert BlockRecord.parse(key, value) is None
