"""A client-side limit on messages per API key, so that a burst is Throttled here instead of
answered 429 by Notify.

Notify limits each service to 3,000 requests per 60 seconds per key type (docs: "API rate
limits"; notifications-api checks it when a notification is posted, with a rolling window in
older versions and a token bucket refilled at limit/60 per second in newer ones). A
``SendWindow`` allows at most ``per_minute`` sends in any 60 seconds: that never exceeds either
of Notify's counts. It does not wait: ``try_send`` says how long until a send is allowed, and
the sink returns ``Throttled`` with that delay (a sink never sleeps).

One window per Notify instance and service id, shared by every destination in this process
(``SendWindows``); other hub processes count their own.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["SHARED", "WINDOW_S", "SendWindow", "SendWindows"]

WINDOW_S = 60.0


class SendWindow:
    """At most ``per_minute`` sends in any ``WINDOW_S`` seconds of ``clock`` (monotonic)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute is at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._sent: deque[float] = deque()

    def try_send(self) -> float | None:
        """Count one send and return None when it is allowed now; else count nothing and return
        the seconds until the oldest send in the window leaves it (> 0)."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - WINDOW_S:
            self._sent.popleft()
        if len(self._sent) < self.per_minute:
            self._sent.append(now)
            return None
        # Allowed once all but per_minute - 1 of the sends in the window have left it (more
        # than one when the limit was lowered meanwhile).
        leaving = self._sent[len(self._sent) - self.per_minute]
        return max(leaving + WINDOW_S - now, 0.001)


class SendWindows:
    """The windows of one process, by (base URL, service id). A destination asking with a lower
    ``per_minute`` than the window has lowers it: destinations sharing a key share the
    strictest setting."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, str], SendWindow] = {}

    def window(self, base_url: str, service_id: str, per_minute: int) -> SendWindow:
        found = self._windows.get((base_url, service_id))
        if found is None:
            found = self._windows[(base_url, service_id)] = SendWindow(per_minute, self._clock)
        elif per_minute < found.per_minute:
            found.per_minute = per_minute
        return found


SHARED = SendWindows()  # the process's: every notifynl sink the hub builds uses it
