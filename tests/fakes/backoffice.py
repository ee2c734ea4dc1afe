"""A fake back office: a real HTTP server that receives CloudEvents webhooks.

It runs uvicorn in a thread on a free loopback port and checks what it gets the way a real
receiver would: a structured-mode CloudEvent (``application/cloudevents+json`` with specversion,
id, source, type), else 400. Each destination name is its own path, scriptable from the test:
fail the first N requests, answer a fixed status, send Retry-After, answer slowly.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeBackOffice", "Received", "running_backoffice"]


@dataclass(frozen=True)
class Received:
    idempotency_key: str | None
    headers: dict[str, str]
    body: dict[str, Any] | None
    status: int
    at: float  # time.monotonic() when answered


@dataclass
class _Script:
    fail_first: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    status: int = 201
    delay_s: float = 0.0
    seen: int = 0


@dataclass
class FakeBackOffice:
    port: int
    _scripts: dict[str, _Script] = field(default_factory=dict)
    _received: dict[str, list[Received]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def script(
        self,
        name: str,
        *,
        fail_first: int = 0,
        fail_status: int = 503,
        retry_after: str | None = None,
        status: int = 201,
        delay_s: float = 0.0,
    ) -> None:
        """How ``name`` answers from now on: ``fail_first`` failures, then ``status``."""
        with self._lock:
            self._scripts[name] = _Script(fail_first, fail_status, retry_after, status, delay_s)

    def received(self, name: str) -> list[Received]:
        with self._lock:
            return list(self._received.get(name, []))

    def accepted(self, name: str) -> list[Received]:
        return [r for r in self.received(name) if 200 <= r.status < 300]

    def _next_answer(self, name: str) -> tuple[int, str | None, float]:
        with self._lock:
            script = self._scripts.setdefault(name, _Script())
            script.seen += 1
            if script.seen <= script.fail_first:
                return script.fail_status, script.retry_after, script.delay_s
            return script.status, None, script.delay_s

    def _record(
        self, name: str, request: Request, body: dict[str, Any] | None, status: int
    ) -> None:
        received = Received(
            idempotency_key=request.headers.get("idempotency-key"),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            status=status,
            at=time.monotonic(),
        )
        with self._lock:
            self._received.setdefault(name, []).append(received)

    async def handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        raw = await request.body()
        body = _valid_cloudevent(request.headers.get("content-type", ""), raw)
        if body is None:
            self._record(name, request, None, 400)
            return JSONResponse(
                {"title": "not a structured CloudEvent", "status": 400},
                status_code=400,
                media_type="application/problem+json",
            )
        status, retry_after, delay = self._next_answer(name)
        if delay:
            await asyncio.sleep(delay)
        self._record(name, request, body, status)
        if 200 <= status < 300:
            location = f"{self.url(name)}/zaken/{uuid.uuid4()}"
            return JSONResponse(
                {"url": location}, status_code=status, headers={"Location": location}
            )
        headers = {"Retry-After": retry_after} if retry_after else None
        return JSONResponse({"status": status}, status_code=status, headers=headers)


def _valid_cloudevent(content_type: str, raw: bytes) -> dict[str, Any] | None:
    if not content_type.startswith("application/cloudevents+json"):
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or body.get("specversion") != "1.0":
        return None
    if not all(isinstance(body.get(attr), str) and body[attr] for attr in ("id", "source", "type")):
        return None
    return body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_backoffice() -> Iterator[FakeBackOffice]:
    """A started FakeBackOffice; stopped, with its thread joined, on exit."""
    fake = FakeBackOffice(port=_free_port())
    app = Starlette(routes=[Route("/{name}", fake.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=fake.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, name="fake-backoffice", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake back office did not start")
        time.sleep(0.01)
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(10)
