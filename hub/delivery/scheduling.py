"""Pure scheduling decisions of the delivery engine: no I/O, no clock of its own.

- ``OffsetTracker``: per partition, the offset that may be committed while deliveries finish out
  of order (Confluent Parallel Consumer's idea: commit up to the lowest unfinished offset).
- ``DestinationQueue``: per destination, at most ``max_in_flight`` deliveries at once and never
  two of the same key (one zaak, one submission) at once, in offset order per key.
- ``CircuitBreaker``: per destination, after ``failure_threshold`` failed attempts in a row the
  destination is not called for ``break_s`` seconds; then one probe decides (closed again, or
  another break). A destination that has delivered nothing for ``block_after`` (a week by
  default) while failing is blocked: no more probes until an operator releases it. Anchor:
  OneGround's notification service (failure threshold, break duration, half-open probe, a
  subscription blocked after a week of failures and released by hand).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

__all__ = ["BreakerState", "CircuitBreaker", "DestinationQueue", "OffsetTracker", "Queued"]

T = TypeVar("T")


class OffsetTracker:
    """Offsets of one partition handed out for delivery, finished in any order.

    ``committable()`` is the offset to commit (Kafka's committed offset is the next record to
    read): the lowest offset not yet finished, or one past the last fetched when all are done.
    """

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        self._done: set[int] = set()
        self._next: int | None = None
        self.committed: int | None = None  # what was last committed (set by the engine)

    def started(self, offset: int) -> None:
        """``offset`` was fetched and handed to the scheduler (offsets arrive in order)."""
        self._order.append(offset)
        self._next = offset + 1

    def finished(self, offset: int) -> None:
        self._done.add(offset)
        while self._order and self._order[0] in self._done:
            self._done.discard(self._order.popleft())

    def committable(self) -> int | None:
        """The offset to commit now; None when nothing was fetched yet."""
        return self._order[0] if self._order else self._next

    @property
    def unfinished(self) -> int:
        return len(self._order)


@dataclass
class Queued(Generic[T]):
    """One record waiting for (or in) delivery: its key and whatever the engine carries."""

    key: bytes | None
    item: T


@dataclass
class DestinationQueue(Generic[T]):
    """Deliveries waiting for one destination, started in order per key, ``max_in_flight`` at
    most at once. A record whose key is in flight waits, and so do later ones of that key; later
    records of other keys may start before it."""

    max_in_flight: int
    waiting: deque[Queued[T]] = field(default_factory=deque)
    keys_in_flight: set[bytes | None] = field(default_factory=set)
    in_flight: int = 0

    def add(self, key: bytes | None, item: T) -> None:
        self.waiting.append(Queued(key, item))

    def next_ready(self) -> Queued[T] | None:
        """The first waiting delivery that may start now (and mark it started), or None."""
        if self.in_flight >= self.max_in_flight:
            return None
        blocked: set[bytes | None] = set()
        for index, queued in enumerate(self.waiting):
            if queued.key in self.keys_in_flight or queued.key in blocked:
                blocked.add(queued.key)  # keep the key's order: nothing of it may overtake
                continue
            del self.waiting[index]
            self.keys_in_flight.add(queued.key)
            self.in_flight += 1
            return queued
        return None

    def finished(self, key: bytes | None) -> None:
        self.keys_in_flight.discard(key)
        self.in_flight -= 1

    def drop(self, keep: Callable[[T], bool]) -> list[T]:
        """Remove the waiting items ``keep`` says no to (partitions revoked); return them."""
        dropped = [q.item for q in self.waiting if not keep(q.item)]
        self.waiting = deque(q for q in self.waiting if keep(q.item))
        return dropped

    @property
    def backlog(self) -> int:
        return len(self.waiting) + self.in_flight


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # no calls until the break is over
    HALF_OPEN = "half_open"  # one probe call decides
    BLOCKED = "blocked"  # failing for too long: no calls until an operator releases it


@dataclass
class CircuitBreaker:
    """A destination's breaker; ``now`` is always passed in (monotonic seconds)."""

    failure_threshold: int = 5
    break_s: float = 30.0
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probing: bool = False
    failing_since: float | None = None  # the first failure since the last success

    def allows(self, now: float) -> bool:
        """Whether one more call may start now (a half-open breaker lets exactly one probe)."""
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.break_s:
            self.state, self.probing = BreakerState.HALF_OPEN, False
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.HALF_OPEN and not self.probing:
            self.probing = True
            return True
        return False

    def succeeded(self) -> None:
        if self.state is not BreakerState.BLOCKED:  # a call started before the block
            self.state, self.failures, self.probing = BreakerState.CLOSED, 0, False
            self.failing_since = None

    def failed(self, now: float) -> bool:
        """Count a failed call; True when the breaker opened (again) because of it."""
        if self.failing_since is None:
            self.failing_since = now
        if self.state is BreakerState.BLOCKED:
            return False
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            opened = self.state is not BreakerState.OPEN
            self.state, self.opened_at, self.probing = BreakerState.OPEN, now, False
            return opened
        return False

    def due_for_block(self, now: float, block_after_s: float) -> bool:
        """Whether the destination has failed, delivering nothing, for ``block_after_s``."""
        return (
            self.state is BreakerState.OPEN
            and self.failing_since is not None
            and now - self.failing_since >= block_after_s
        )

    def block(self) -> None:
        self.state, self.probing = BreakerState.BLOCKED, False

    def release(self) -> None:
        """An operator's release: calls go through again, the failure count starts afresh."""
        self.state, self.failures, self.probing = BreakerState.CLOSED, 0, False
        self.failing_since = None

    def reopens_in(self, now: float) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.break_s - (now - self.opened_at))
