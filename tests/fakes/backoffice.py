"""A fake back office: a real HTTP server that receives CloudEvents webhooks.

It runs uvicorn in a thread (with its own event loop) on a free loopback port and checks what it
gets the way a real receiver would: ``POST /<destination>`` with a structured-mode CloudEvent
(``application/cloudevents+json``, a JSON object with specversion 1.0, id, source and type), else
400 with a problem+json body saying what is wrong. Each destination name is scriptable from the
test thread: fail the first N valid requests, answer a fixed status, send Retry-After, answer
slowly. Every request is recorded with the status it got.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = ["FakeBackOffice", "Received", "WebhookConformanceFake", "running_backoffice"]

_REQUIRED = ("id", "source", "type")


@dataclass(frozen=True)
class Received:
    """One request as the back office saw it and what it answered."""

    idempotency_key: str | None
    headers: dict[str, str]  # lowercase names
    body: dict[str, Any] | None  # the JSON object sent, None when the body was not one
    status: int
    at: float  # time.monotonic() when answered
    arrived: float = 0.0  # time.monotonic() when the request came in


@dataclass
class _Script:
    fail_first: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    status: int = 201
    delay_s: float = 0.0
    jitter_s: float = 0.0  # plus a random delay up to this, so answers come in random order
    down_until: float = 0.0  # time.monotonic() before which every request gets fail_status
    seen: int = 0  # valid requests answered so far


@dataclass
class FakeBackOffice:
    """The recording and scripting side; ``running_backoffice()`` serves it over HTTP.

    Every public method is safe to call from the test thread while the server runs.
    """

    port: int
    _scripts: dict[str, _Script] = field(default_factory=dict)
    _received: dict[str, list[Received]] = field(default_factory=dict)
    _current: dict[str, int] = field(default_factory=dict)
    _random: random.Random = field(default_factory=random.Random)
    _peak: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        """The webhook URL of destination ``name``."""
        return f"{self.base}/{name}"

    def script(
        self,
        name: str,
        *,
        fail_first: int = 0,
        fail_status: int = 503,
        retry_after: str | None = None,
        status: int = 201,
        delay_s: float = 0.0,
        jitter_s: float = 0.0,
    ) -> None:
        """How ``name`` answers valid CloudEvents from now on: the first ``fail_first`` get
        ``fail_status`` (with ``Retry-After: retry_after`` when given), later ones ``status``;
        each answer waits ``delay_s`` (plus up to ``jitter_s`` at random) first. Unscripted names
        answer 201 at once."""
        with self._lock:
            self._scripts[name] = _Script(
                fail_first, fail_status, retry_after, status, delay_s, jitter_s
            )

    def received(self, name: str) -> list[Received]:
        """Every request to ``name`` so far, in the order answered, invalid ones included."""
        with self._lock:
            return list(self._received.get(name, []))

    def accepted(self, name: str) -> list[Received]:
        """The requests to ``name`` that were answered 2xx."""
        return [r for r in self.received(name) if 200 <= r.status < 300]

    def effects(self, name: str) -> int:
        """What a back office honouring Idempotency-Key would have made for ``name``: accepted
        requests, a repeated key counted once (a request without a key always counts)."""
        accepted = self.accepted(name)
        keys = {r.idempotency_key for r in accepted if r.idempotency_key}
        return len(keys) + sum(1 for r in accepted if not r.idempotency_key)

    def conformance(self, name: str) -> WebhookConformanceFake:
        """This fake as the conformance suite's ConformanceFake, for destination ``name``."""
        return WebhookConformanceFake(self, name)

    def outage(self, name: str, seconds: float, status: int = 503) -> None:
        """``name`` answers ``status`` to every request for the next ``seconds``, then 201."""
        with self._lock:
            script = self._scripts.setdefault(name, _Script())
            script.fail_status, script.down_until = status, time.monotonic() + seconds

    def max_concurrent(self, name: str) -> int:
        """The most requests to ``name`` that were being answered at one time."""
        with self._lock:
            return self._peak.get(name, 0)

    def _next_answer(self, name: str) -> tuple[int, str | None, float]:
        with self._lock:
            script = self._scripts.setdefault(name, _Script())
            script.seen += 1
            delay = script.delay_s + random.uniform(0, script.jitter_s)
            if script.seen <= script.fail_first or time.monotonic() < script.down_until:
                return script.fail_status, script.retry_after, delay
            return script.status, None, delay

    def _record(
        self,
        name: str,
        request: Request,
        body: dict[str, Any] | None,
        status: int,
        arrived: float = 0.0,
    ) -> None:
        received = Received(
            idempotency_key=request.headers.get("idempotency-key"),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            status=status,
            at=time.monotonic(),
            arrived=arrived,
        )
        with self._lock:
            self._received.setdefault(name, []).append(received)

    async def _wait(self, delay_s: float) -> None:
        # Waits on the stop signal, so that stopping the server does not sit out a long delay.
        await asyncio.to_thread(self._stopping.wait, delay_s)

    async def _handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        body, problem = check_cloudevent(
            request.headers.get("content-type", ""), await request.body()
        )
        if problem is not None:
            self._record(name, request, body, 400)
            return JSONResponse(
                {"title": "Not a structured-mode CloudEvent", "status": 400, "detail": problem},
                status_code=400,
                media_type="application/problem+json",
            )
        arrived = time.monotonic()
        status, retry_after, delay_s = self._next_answer(name)
        with self._lock:
            self._current[name] = self._current.get(name, 0) + 1
            self._peak[name] = max(self._peak.get(name, 0), self._current[name])
        try:
            if delay_s:
                await self._wait(delay_s)
        finally:
            with self._lock:
                self._current[name] -= 1
        self._record(name, request, body, status, arrived)
        if 200 <= status < 300:
            location = f"{self.url(name)}/zaken/{uuid.uuid4()}"
            return JSONResponse(
                {"url": location}, status_code=status, headers={"Location": location}
            )
        headers = {"Retry-After": retry_after} if retry_after else None
        return JSONResponse({"status": status}, status_code=status, headers=headers)


@dataclass(frozen=True)
class WebhookConformanceFake:
    """connectors.sdk.conformance.ConformanceFake over one destination name of a FakeBackOffice:
    a retryable failure is 503, a permanent one 400."""

    backoffice: FakeBackOffice
    name: str

    def settings(self) -> dict[str, Any]:
        return {"url": self.backoffice.url(self.name)}

    def fail_next(self, kind: str) -> None:
        self.backoffice.script(
            self.name, fail_first=1, fail_status=503 if kind == "retryable" else 400
        )

    def effects(self) -> int:
        return self.backoffice.effects(self.name)


def check_cloudevent(content_type: str, raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The body as a JSON object (or None) and what makes it no structured CloudEvent (or None)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    document = body if isinstance(body, dict) else None
    if not content_type.lower().startswith("application/cloudevents+json"):
        return document, f"content type must be application/cloudevents+json, not {content_type!r}"
    if document is None:
        return None, "the body must be a JSON object"
    if document.get("specversion") != "1.0":
        return document, "specversion must be '1.0'"
    missing = [
        name for name in _REQUIRED if not isinstance(document.get(name), str) or not document[name]
    ]
    if missing:
        return document, f"missing attribute(s): {', '.join(missing)}"
    return document, None


@contextmanager
def running_backoffice() -> Iterator[FakeBackOffice]:
    """A FakeBackOffice serving on a free loopback port; stopped, its thread joined, on exit."""
    fakes: list[FakeBackOffice] = []

    def app_for(port: int) -> Starlette:
        fakes.append(FakeBackOffice(port=port))
        return Starlette(routes=[Route("/{name}", fakes[0]._handle, methods=["POST"])])

    with serving(app_for, "fake-backoffice"):
        try:
            yield fakes[0]
        finally:
            fakes[0]._stopping.set()
