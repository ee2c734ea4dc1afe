"""hub.routing.duplicates: the same source and id is routed once."""

from __future__ import annotations

from hub.routing.duplicates import RecentlyRouted, Seen

SOURCE = "urn:nld:oin:00000001002564440000:systeem:test"


def test_a_duplicate_a_conflict_and_a_record_read_again() -> None:
    routed = RecentlyRouted()
    assert routed.check("t", 0, 5, SOURCE, "id-1", b"a") is Seen.NEW
    routed.remember("t", 0, 5, SOURCE, "id-1", b"a")
    assert routed.check("t", 0, 5, SOURCE, "id-1", b"a") is Seen.NEW  # read again
    assert routed.check("t", 0, 9, SOURCE, "id-1", b"a") is Seen.DUPLICATE
    assert routed.check("t", 0, 9, SOURCE, "id-1", b"b") is Seen.CONFLICT
    assert routed.check("t", 0, 9, SOURCE + "2", "id-1", b"a") is Seen.NEW  # another source
    assert routed.check("other", 0, 9, SOURCE, "id-1", b"a") is Seen.NEW  # another topic


def test_checking_does_not_remember() -> None:
    routed = RecentlyRouted()
    routed.check("t", 0, 5, SOURCE, "id-1", b"a")
    assert routed.check("t", 0, 9, SOURCE, "id-1", b"a") is Seen.NEW
    assert len(routed) == 0


def test_the_oldest_is_forgotten_beyond_capacity() -> None:
    routed = RecentlyRouted(capacity=2)
    for offset, event_id in enumerate(("a", "b", "c")):
        routed.remember("t", 0, offset, SOURCE, event_id, b"x")
    assert len(routed) == 2
    assert routed.check("t", 0, 10, SOURCE, "a", b"x") is Seen.NEW
    assert routed.check("t", 0, 10, SOURCE, "c", b"x") is Seen.DUPLICATE
