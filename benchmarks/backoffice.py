"""The bench's back office: a fast webhook receiver in a process of its own.

``python -m benchmarks.backoffice --port P --delay-ms 1`` serves ``POST /<name>``: it reads the
body, waits ``delay-ms`` (the back office's own work), counts the request and answers 201 with a
Location header, as a case system that made something would. ``GET /stats`` answers the counts
as JSON (``{"accepted": total, "by_name": {...}}``). It is an aiohttp server (C HTTP parser) in
its own process, so it neither competes for the hub's GIL nor becomes the bottleneck.

Outages, per path: ``POST /control/<name>`` with ``{"status": 503}`` makes ``/<name>`` answer 503
(without counting it as accepted) until ``{"status": 201}``; ``{"watch": true}`` makes it
record every request to ``/<name>``, which ``GET /log/<name>`` answers: ``accepted`` as
``[Idempotency-Key, time]`` pairs and ``refused`` as times, in ``time.monotonic()`` of this
process (CLOCK_MONOTONIC: on Linux the same clock in every process of the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from benchmarks.measure import Samples
from benchmarks.processes import Child, running, wait_until_ok
from tests.kafka_under_test import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["BackOffice", "backoffice_process", "main"]

_COUNTS = web.AppKey("counts", Counter[str])
_DELAY = web.AppKey("delay_s", float)
_STATUS = web.AppKey("status", dict[str, int])


@dataclass
class _Log:
    accepted: list[tuple[str | None, float]] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)


_LOGS = web.AppKey("logs", dict[str, _Log])


async def _receive(request: web.Request) -> web.Response:
    await request.read()
    delay_s = request.app[_DELAY]
    if delay_s:
        await asyncio.sleep(delay_s)
    name = request.match_info["name"]
    status = request.app[_STATUS].get(name, 201)
    log = request.app[_LOGS].get(name)
    if status >= 300:
        if log is not None:
            log.refused.append(time.monotonic())
        return web.Response(status=status)
    counts = request.app[_COUNTS]
    counts[name] += 1
    if log is not None:
        log.accepted.append((request.headers.get("Idempotency-Key"), time.monotonic()))
    return web.Response(status=201, headers={"Location": f"/{name}/zaken/{counts[name]}"})


async def _stats(request: web.Request) -> web.Response:
    counts = request.app[_COUNTS]
    return web.json_response({"accepted": sum(counts.values()), "by_name": dict(counts)})


async def _control(request: web.Request) -> web.Response:
    name, body = request.match_info["name"], await request.json()
    if "status" in body:
        request.app[_STATUS][name] = int(body["status"])
    if body.get("watch"):
        request.app[_LOGS].setdefault(name, _Log())
    return web.json_response({"at": time.monotonic()})


async def _log(request: web.Request) -> web.Response:
    log = request.app[_LOGS].get(request.match_info["name"], _Log())
    return web.json_response({"accepted": log.accepted, "refused": log.refused})


def make_app(delay_s: float) -> web.Application:
    app = web.Application()
    app[_COUNTS] = Counter()
    app[_DELAY] = delay_s
    app[_STATUS] = {}
    app[_LOGS] = {}
    app.router.add_get("/stats", _stats)
    app.router.add_post("/control/{name}", _control)
    app.router.add_get("/log/{name}", _log)
    app.router.add_post("/{name}", _receive)
    return app


@dataclass(frozen=True)
class BackOffice:
    """A running bench back office, seen from the bench process."""

    port: int
    delay_ms: float
    child: Child

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def accepted(self) -> int:
        """Requests answered 201 so far, over every name."""
        url = f"http://127.0.0.1:{self.port}/stats"
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(json.load(response)["accepted"])

    def control(self, name: str, status: int | None = None, watch: bool = False) -> float:
        """Make ``/<name>`` answer ``status`` from now on, and/or record its requests (``watch``);
        the back office's time.monotonic() when it took effect."""
        body: dict[str, object] = {"watch": watch}
        if status is not None:
            body["status"] = status
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/control/{name}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return float(json.load(response)["at"])

    def log(self, name: str) -> tuple[list[tuple[str | None, float]], list[float]]:
        """What a watched ``/<name>`` got: (Idempotency-Key, time) of each accepted request, and
        the time of each refused one."""
        url = f"http://127.0.0.1:{self.port}/log/{name}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
        return [(key, float(at)) for key, at in body["accepted"]], list(body["refused"])

    def wait_for(self, total: int, timeout_s: float, interval_s: float = 0.1) -> Samples:
        """Poll until ``total`` requests were accepted; the (time, count) samples taken."""
        samples: Samples = []
        deadline = time.monotonic() + timeout_s
        while True:
            now, count = time.monotonic(), self.accepted()
            samples.append((now, count))
            if count >= total:
                return samples
            if now > deadline:
                raise TimeoutError(f"the back office got {count} of {total} in {timeout_s:.0f} s")
            self.child.check_alive()
            time.sleep(interval_s)


@contextmanager
def backoffice_process(delay_ms: float, name: str = "backoffice") -> Iterator[BackOffice]:
    """A back office answering after ``delay_ms``, in a subprocess; stopped on exit."""
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.backoffice", "--port", str(port)]
    with running([*argv, "--delay-ms", str(delay_ms)], name) as child:
        wait_until_ok(child, f"http://127.0.0.1:{port}/stats", timeout_s=30)
        yield BackOffice(port, delay_ms, child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=1.0)
    args = parser.parse_args()
    web.run_app(
        make_app(args.delay_ms / 1000),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
