"""Every hub process's push destinations, for the ops console of any process.

A destination's state lives in the delivery processes that hold its partitions: each has its
own circuit breaker, in-flight count and tallies. The console is served by whichever process a
request reaches (in the shipped deployments: an ``api`` process, which delivers nothing), so
every delivery process writes a snapshot of its destinations, and its lag meter's figures,
every KNOOPPUNT_STATUS_INTERVAL_S to the compacted topic ``knooppunt.destination-status``
(one record per process, keyed by its process id; a tombstone when it stops cleanly), and the
console reads them all: summed and merged per tenant and destination (``merge_statuses``),
snapshots older than three intervals left out (a process that died). The process's own state
is taken from memory, never from its last snapshot.

Only with operators in the config (the console is the only reader): no topic, no client and no
timer otherwise. A snapshot of 1,020 destinations is about 200 KB: one record per process per
interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import orjson

from hub.delivery.engine import DestinationStatus
from hub.notificaties.compacted import CompactedMap
from hub.notificaties.domain import RecordError
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

__all__ = ["DestinationBoard", "Snapshot", "merge_statuses"]

log = get_logger(__name__)
STALE_AFTER_INTERVALS = 3
_CIRCUIT_ORDER = {"closed": 0, "half_open": 1, "open": 2, "blocked": 3}  # worst wins
_FIELDS = {f.name for f in fields(DestinationStatus)}

LagByPlace = Mapping[tuple[str, str], int]  # (tenant, destination) -> records not delivered


@dataclass(frozen=True)
class Snapshot:
    """One process's destinations at ``at`` (Unix seconds), written every ``interval_s``."""

    at: float
    interval_s: float
    statuses: tuple[DestinationStatus, ...]
    lag: tuple[tuple[str, str, int], ...]  # (tenant, destination, records)

    def to_record(self) -> bytes:
        return orjson.dumps(
            {
                "at": self.at,
                "interval_s": self.interval_s,
                "statuses": [asdict(s) for s in self.statuses],
                "lag": self.lag,
            }
        )

    @classmethod
    def from_record(cls, _key: bytes, value: bytes) -> Snapshot:
        """Raises RecordError for a record this code cannot read (passed over by the map)."""
        try:
            data = orjson.loads(value)
            statuses = tuple(
                DestinationStatus(**{k: v for k, v in s.items() if k in _FIELDS})
                for s in data["statuses"]
            )
            lag = tuple((str(t), str(d), int(n)) for t, d, n in data.get("lag", []))
            return cls(float(data["at"]), float(data["interval_s"]), statuses, lag)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"not a destination snapshot: {type(exc).__name__}") from exc

    def fresh(self, now: float) -> bool:
        return now - self.at <= STALE_AFTER_INTERVALS * self.interval_s


def merge_statuses(groups: Iterable[Sequence[DestinationStatus]]) -> list[DestinationStatus]:
    """Pure: one status per (tenant, destination) from several processes' statuses: counts
    summed (in flight, waiting, capacity, delivered, failed), the worst circuit (blocked, open,
    half-open, closed) with the most failures in a row and the longest wait, the latest times."""
    merged: dict[tuple[str, str], DestinationStatus] = {}
    for statuses in groups:
        for s in statuses:
            key = (s.tenant, s.destination)
            seen = merged.get(key)
            if seen is None:
                merged[key] = s
                continue
            worse = _CIRCUIT_ORDER.get(s.circuit, 0) > _CIRCUIT_ORDER.get(seen.circuit, 0)
            merged[key] = DestinationStatus(
                tenant=s.tenant,
                destination=s.destination,
                circuit=s.circuit if worse else seen.circuit,
                failures_in_a_row=max(s.failures_in_a_row, seen.failures_in_a_row),
                reopens_in_s=max(s.reopens_in_s, seen.reopens_in_s),
                in_flight=s.in_flight + seen.in_flight,
                waiting=s.waiting + seen.waiting,
                max_in_flight=s.max_in_flight + seen.max_in_flight,
                delivered=s.delivered + seen.delivered,
                failed=s.failed + seen.failed,
                last_delivered_at=_latest(s.last_delivered_at, seen.last_delivered_at),
                last_failed_at=_latest(s.last_failed_at, seen.last_failed_at),
            )
    return sorted(merged.values(), key=lambda s: (s.tenant, s.destination))


def _latest(a: str | None, b: str | None) -> str | None:
    return max(x for x in (a, b) if x is not None) if a or b else None  # RFC 3339, UTC


class DestinationBoard:
    """The shared board (module docstring). ``local``: this process's destinations (None: it
    delivers nothing and only reads); ``local_lag``: its lag meter's (tenant, destination)
    figures (None: it measures none)."""

    group_id = "destination-status"  # for readiness only: it reads without a group

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        interval_s: float,
        local: Callable[[], Sequence[DestinationStatus]] | None = None,
        local_lag: Callable[[], LagByPlace] | None = None,
    ) -> None:
        self.interval_s, self._local, self._local_lag = interval_s, local, local_lag
        self.process_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._map = CompactedMap(bootstrap, topic, Snapshot.from_record, "destination-status")
        self._writing: asyncio.Task[None] | None = None

    def joined(self) -> bool:
        return self._map.started

    async def start(self) -> None:
        """Read every process's last snapshot; a delivering process starts writing its own."""
        await self._map.start()
        if self._local is not None:
            self._writing = asyncio.create_task(self._write_every(), name="destination-board")

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stop writing, remove this process's snapshot (best effort: it goes stale anyway)."""
        if self._writing is not None:
            self._writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writing
            with contextlib.suppress(Exception):
                await self._map.delete(self.process_id, timeout_s=max(grace_s, 1.0))
        await self._map.stop()

    def statuses(self) -> list[DestinationStatus]:
        """Every destination of every live process, merged; this process's own from memory."""
        own = list(self._local()) if self._local is not None else []
        return merge_statuses([own, *(s.statuses for s in self._others())])

    def lag(self) -> dict[tuple[str, str], int]:
        """Records not delivered yet per (tenant, destination): this process's lag meter's
        figures, else the largest any live process measured (they measure the same group)."""
        if self._local_lag is not None:
            return dict(self._local_lag())
        found: dict[tuple[str, str], int] = defaultdict(int)
        for snapshot in self._others():
            for tenant, destination, records in snapshot.lag:
                found[(tenant, destination)] = max(found[(tenant, destination)], records)
        return dict(found)

    def _others(self) -> list[Snapshot]:
        now = time.time()
        return [
            snapshot
            for process, snapshot in self._map.snapshot().items()
            if process != self.process_id and snapshot.fresh(now)
        ]

    async def _write_every(self) -> None:
        while True:
            try:
                await self._map.put(self.process_id, self._snapshot().to_record())
            except Exception as exc:  # Kafka away a moment: the next interval tries again
                log.warning("destination_board_not_written", error=redact_text(str(exc)))
            await asyncio.sleep(self.interval_s)

    def _snapshot(self) -> Snapshot:
        assert self._local is not None
        lag = self._local_lag() if self._local_lag is not None else {}
        return Snapshot(
            at=time.time(),
            interval_s=self.interval_s,
            statuses=tuple(self._local()),
            lag=tuple((t, d, n) for (t, d), n in sorted(lag.items())),
        )
