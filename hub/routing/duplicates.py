"""Duplicates on a contract topic, recognised where the events are partitioned by key.

An event published twice (a resend that reached another hub process, or this one after a
restart; a producer's own retry) is two records with the same ``source`` and ``id``: a
CloudEvents consumer "MAY assume that Events with identical source and id are duplicates"
(CloudEvents 1.0.2, §3.1.1 id). Both records have the same key, so they are on the same
partition and reach the same router. The router remembers the events it routed recently and
routes each once:

- the same source and id at another offset, with the same data: a duplicate, skipped;
- the same source and id with other data: a conflict, dead-lettered with its cause (nothing is
  lost; an operator decides);
- the same record read again (same offset: a batch read again after Kafka refused a copy) is no
  duplicate and is routed as before.

Only events that were routed (or matched no route) are remembered: a dead-lettered event that an
operator replays onto its contract topic (``knooppunt dlq replay``) is routed, not skipped.

The memory is the last ``capacity`` events of this router process (about 200 bytes each), not
the topic: after a restart or a rebalance, a duplicate of an event routed before it is routed
again (at-least-once, with the same event id for the back office to recognise).
"""

from __future__ import annotations

from collections import OrderedDict
from enum import Enum

__all__ = ["CAPACITY", "RecentlyRouted", "Seen"]

CAPACITY = 100_000


class Seen(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"  # the same source and id with other data


class RecentlyRouted:
    """Source, id, offset and a hash of the data of the last ``capacity`` events, per topic."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str, str], tuple[int, int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def check(
        self, topic: str, partition: int, offset: int, source: str, event_id: str, data: bytes
    ) -> Seen:
        """Whether the event at ``offset`` was remembered before at another offset (and then
        whether with the same ``data``)."""
        seen = self._seen.get((topic, source, event_id))
        if seen is None or (seen[0] == partition and seen[1] == offset):
            return Seen.NEW  # (or the same record, read again)
        return Seen.DUPLICATE if seen[2] == hash(data) else Seen.CONFLICT

    def remember(
        self, topic: str, partition: int, offset: int, source: str, event_id: str, data: bytes
    ) -> None:
        """Remember a routed event (the oldest is forgotten beyond ``capacity``)."""
        self._seen[(topic, source, event_id)] = (partition, offset, hash(data))
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
