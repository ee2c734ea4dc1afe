"""The destination board's pure parts: merging several processes' destinations, and reading a
snapshot record (hub.runtime.destination_board)."""

from __future__ import annotations

import pytest

from hub.delivery.engine import DestinationStatus
from hub.notificaties.domain import RecordError
from hub.runtime.destination_board import Snapshot, merge_statuses


def _status(circuit: str, **counts: float | str | None) -> DestinationStatus:
    values: dict[str, object] = {
        "failures_in_a_row": 0,
        "reopens_in_s": 0.0,
        "in_flight": 0,
        "waiting": 0,
        "max_in_flight": 8,
        **counts,
    }
    return DestinationStatus("0363", "zaken", circuit, **values)  # type: ignore[arg-type]


def test_counts_add_up_and_the_worst_circuit_and_latest_times_win() -> None:
    one = _status(
        "closed",
        in_flight=2,
        waiting=5,
        delivered=10,
        failed=1,
        last_delivered_at="2026-11-30T06:00:00Z",
    )
    two = _status(
        "open",
        failures_in_a_row=4,
        reopens_in_s=30.0,
        in_flight=0,
        waiting=7,
        delivered=3,
        failed=4,
        last_delivered_at="2026-11-30T05:00:00Z",
        last_failed_at="2026-11-30T06:01:00Z",
    )
    [merged] = merge_statuses([[one], [two]])
    assert merged.circuit == "open"
    assert (merged.in_flight, merged.waiting, merged.max_in_flight) == (2, 12, 16)
    assert (merged.delivered, merged.failed, merged.failures_in_a_row) == (13, 5, 4)
    assert merged.reopens_in_s == 30.0
    assert merged.last_delivered_at == "2026-11-30T06:00:00Z"
    assert merged.last_failed_at == "2026-11-30T06:01:00Z"
    assert merge_statuses([[_status("blocked")], [_status("open")]])[0].circuit == "blocked"


def test_a_snapshot_reads_back_and_goes_stale_after_three_intervals() -> None:
    snapshot = Snapshot(100.0, 10.0, (_status("half_open", delivered=1),), (("0363", "zaken", 7),))
    assert Snapshot.from_record(b"p", snapshot.to_record()) == snapshot
    assert snapshot.fresh(130.0)
    assert not snapshot.fresh(130.1)


@pytest.mark.parametrize(
    "value",
    [b"not json", b"{}", b'{"at": 1, "interval_s": 1, "statuses": [1]}', b'{"at": "x"}', b"[]"],
)
def test_a_record_that_is_no_snapshot_is_refused(value: bytes) -> None:
    with pytest.raises(RecordError):
        Snapshot.from_record(b"p", value)
