"""How figures are taken: rates from progress samples, medians, the bench's knobs (``BENCH_*``)."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass

__all__ = ["DEFAULT_SCENARIOS", "SCENARIOS", "BenchOptions", "Samples", "median", "steady_rate"]

Samples = list[tuple[float, int]]  # (time.monotonic(), how many done so far)

SCENARIOS = ("router", "delivery", "http", "intake", "tenants", "outage")
# What `make bench` runs without BENCH_ONLY: the outage scenario takes minutes, so only on request.
DEFAULT_SCENARIOS = ("router", "delivery", "http", "intake", "tenants")


def steady_rate(samples: Samples) -> float:
    """Items per second between the first sample that saw progress and the last sample.

    Both ends are real observations, so start-up (connections, group joins) before the first
    item is left out and no polling interval is guessed: the rate is what moved between two
    looks, divided by the time between them. With one look only, that look's count over the
    time since the first sample.
    """
    moving = [(t, n) for t, n in samples if n > samples[0][1]]
    if len(moving) >= 2 and moving[-1][0] > moving[0][0]:
        (t0, n0), (t1, n1) = moving[0], moving[-1]
        return (n1 - n0) / (t1 - t0)
    (t0, n0), (t1, n1) = samples[0], samples[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


@dataclass(frozen=True)
class BenchOptions:
    """The bench's knobs, from ``BENCH_*`` environment variables (docs/benchmarks.md)."""

    events: int = 30_000  # BENCH_EVENTS: router and raw loop
    repeat: int = 3  # BENCH_REPEAT: runs of each of router and raw loop (median)
    deliveries: int = 6_000  # BENCH_DELIVERIES: delivery scenario and tenants scenario
    backoffice_delay_ms: float = 1.0  # BENCH_BACKOFFICE_DELAY_MS
    http_requests: int = 5_000  # BENCH_HTTP_REQUESTS: per client
    http_in_flight: int = 16  # BENCH_HTTP_IN_FLIGHT
    intake_seconds: float = 10.0  # BENCH_INTAKE_SECONDS: each load step
    intake_workers: int = 64  # BENCH_INTAKE_WORKERS: connections at saturation
    intake_rates: tuple[int, ...] = (200, 500)  # BENCH_INTAKE_RATES
    tenants: tuple[int, ...] = (1, 34, 340)  # BENCH_TENANTS
    idle_seconds: float = 30.0  # BENCH_IDLE_SECONDS
    ready_timeout_s: float = 600.0  # BENCH_READY_TIMEOUT_S
    deliver_timeout_s: float = 900.0  # BENCH_DELIVER_TIMEOUT_S
    outage_seconds: float = 300.0  # BENCH_OUTAGE_SECONDS: how long one back office answers 503
    outage_rate: float = 20.0  # BENCH_OUTAGE_RATE: events/s per tenant during the outage scenario
    only: tuple[str, ...] = DEFAULT_SCENARIOS  # BENCH_ONLY: a comma-separated subset of SCENARIOS

    @classmethod
    def from_environment(cls) -> BenchOptions:
        only = tuple(s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip())
        unknown = sorted(set(only) - set(SCENARIOS))
        if unknown:
            raise SystemExit(f"BENCH_ONLY: unknown {', '.join(unknown)}; known: {SCENARIOS}")
        return cls(
            events=_int("BENCH_EVENTS", cls.events),
            repeat=max(1, _int("BENCH_REPEAT", cls.repeat)),
            deliveries=_int("BENCH_DELIVERIES", cls.deliveries),
            backoffice_delay_ms=_float("BENCH_BACKOFFICE_DELAY_MS", cls.backoffice_delay_ms),
            http_requests=_int("BENCH_HTTP_REQUESTS", cls.http_requests),
            http_in_flight=_int("BENCH_HTTP_IN_FLIGHT", cls.http_in_flight),
            intake_seconds=_float("BENCH_INTAKE_SECONDS", cls.intake_seconds),
            intake_workers=_int("BENCH_INTAKE_WORKERS", cls.intake_workers),
            intake_rates=_ints("BENCH_INTAKE_RATES", cls.intake_rates),
            tenants=_ints("BENCH_TENANTS", cls.tenants),
            idle_seconds=_float("BENCH_IDLE_SECONDS", cls.idle_seconds),
            ready_timeout_s=_float("BENCH_READY_TIMEOUT_S", cls.ready_timeout_s),
            deliver_timeout_s=_float("BENCH_DELIVER_TIMEOUT_S", cls.deliver_timeout_s),
            outage_seconds=_float("BENCH_OUTAGE_SECONDS", cls.outage_seconds),
            outage_rate=_float("BENCH_OUTAGE_RATE", cls.outage_rate),
            only=only or DEFAULT_SCENARIOS,
        )


def _ints(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return tuple(int(part) for part in raw.split(",") if part.strip())
