"""Helpers for tests against a running hub."""

from __future__ import annotations

import asyncio
import time

import httpx

__all__ = ["metric_value", "wait_ready"]


async def wait_ready(http: httpx.AsyncClient, timeout_s: float = 30.0) -> None:
    """Poll /readyz until the hub says ready (consumers assigned), or fail with its last answer."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = await http.get("/readyz")
            if last.status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"hub not ready after {timeout_s} s: {last.text if last else 'no answer'}")


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text exposition, 0 when absent."""
    for line in exposition.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
