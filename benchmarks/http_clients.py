"""Scenario ``http``: httpx.AsyncClient, the SDK's client and a bare aiohttp.ClientSession.

Each client POSTs ``BENCH_HTTP_REQUESTS`` webhook-sized CloudEvents (the webhook sink's body and
headers) to the bench back office (its own process, answering after
``BENCH_BACKOFFICE_DELAY_MS``), ``BENCH_HTTP_IN_FLIGHT`` at a time (that many workers, each
sending one after another), after a warm-up of 200 requests.

- ``httpx``: an httpx.AsyncClient set up as the SDK's client was until it moved to aiohttp
  (TCP_NODELAY, no redirects, certifi's CAs);
- ``sdk``: what every HTTP sink gets (``connectors.sdk.HttpClients().client()``, on aiohttp);
- ``aiohttp``: a bare ``ClientSession``, the floor the SDK's own work sits on.

Figures: requests/s, and CPU seconds per request of this process (``time.process_time()``, the
client's own work: the back office runs elsewhere).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import certifi
import httpx
import orjson

from benchmarks.kafka_io import submission_event
from connectors.sdk import HttpClients

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from benchmarks.backoffice import BackOffice
    from benchmarks.measure import BenchOptions

__all__ = ["run_http_clients"]

WARM_UP = 200
Post = Callable[[], "Awaitable[int]"]


def _webhook_body() -> bytes:
    _, event = submission_event("0363")
    document: dict[str, Any] = {**event.attributes(), "datacontenttype": event.datacontenttype}
    document["data"] = orjson.Fragment(event.data)
    return orjson.dumps(document)


def _headers() -> dict[str, str]:
    return {
        "Content-Type": "application/cloudevents+json; charset=utf-8",
        "Idempotency-Key": str(uuid.uuid4()),
    }


async def _drive(post: Post, requests: int, in_flight: int) -> dict[str, float]:
    async def worker(count: int) -> None:
        for _ in range(count):
            status = await post()
            if status != 201:
                raise RuntimeError(f"the back office answered {status}")

    await asyncio.gather(*(worker(WARM_UP // in_flight + 1) for _ in range(in_flight)))
    share, extra = divmod(requests, in_flight)
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(in_flight)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "requests": requests,
        "seconds": wall,
        "requests_per_s": requests / wall,
        "cpu_ms_per_request": cpu * 1000 / requests,
    }


async def _httpx(url: str, body: bytes, requests: int, in_flight: int) -> dict[str, float]:
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    verify = ssl.create_default_context(cafile=certifi.where())
    transport = httpx.AsyncHTTPTransport(socket_options=nodelay, verify=verify)
    async with httpx.AsyncClient(timeout=10, transport=transport, follow_redirects=False) as client:

        async def post() -> int:
            return (await client.post(url, content=body, headers=_headers())).status_code

        return await _drive(post, requests, in_flight)


async def _sdk(url: str, body: bytes, requests: int, in_flight: int) -> dict[str, float]:
    async with HttpClients().client(timeout_s=10) as client:

        async def post() -> int:
            return (await client.post(url, body=body, headers=_headers())).status

        return await _drive(post, requests, in_flight)


async def _aiohttp(url: str, body: bytes, requests: int, in_flight: int) -> dict[str, float]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def post() -> int:
            async with session.post(url, data=body, headers=_headers()) as response:
                await response.read()
                return response.status

        return await _drive(post, requests, in_flight)


def run_http_clients(backoffice: BackOffice, options: BenchOptions) -> dict[str, Any]:
    url, body = backoffice.url("http-client"), _webhook_body()
    n, in_flight = options.http_requests, options.http_in_flight
    results = {
        "httpx": asyncio.run(_httpx(url, body, n, in_flight)),
        "sdk": asyncio.run(_sdk(url, body, n, in_flight)),
        "aiohttp": asyncio.run(_aiohttp(url, body, n, in_flight)),
    }
    for name, figures in results.items():
        print(
            f"  http {name}: {figures['requests_per_s']:,.0f} requests/s, "
            f"{figures['cpu_ms_per_request']:.2f} ms CPU per request",
            file=sys.stderr,
        )
    return {
        "backoffice_delay_ms": backoffice.delay_ms,
        "in_flight": in_flight,
        "body_bytes": len(body),
        "clients": results,
        "versions": {
            "httpx": _version("httpx"),
            "sdk": f"(aiohttp {aiohttp.__version__})",
            "aiohttp": aiohttp.__version__,
        },
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
