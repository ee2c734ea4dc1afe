"""A fake back office: a real HTTP server that receives CloudEvents webhooks.

It runs uvicorn in a thread (with its own event loop) on a free loopback port and checks what it
gets the way a real receiver would: ``POST /<destination>`` with a structured-mode CloudEvent
(``application/cloudevents+json``, a JSON object with specversion 1.0, id, source and type), else
400 with a problem+json body saying what is wrong. Each destination name is scriptable from the
test thread: fail the first N valid requests, answer a fixed status, send Retry-After, answer
slowly, or require a Standard Webhooks signature (``require_signature``: without one that
verifies against its secret, 401). Every request is recorded with the status it got.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = [
    "FakeBackOffice",
    "Received",
    "WebhookConformanceFake",
    "running_backoffice",
    "signature_problem",
]

_REQUIRED = ("id", "source", "type")
SIGNATURE_TOLERANCE_S = 300  # the spec's libraries refuse a timestamp 5 minutes off


@dataclass(frozen=True)
class Received:
    """One request as the back office saw it and what it answered."""

    idempotency_key: str | None
    headers: dict[str, str]  # lowercase names
    body: dict[str, Any] | None  # the JSON object sent, None when the body was not one
    status: int
    at: float  # time.monotonic() when answered
    arrived: float = 0.0  # time.monotonic() when the request came in
    raw: bytes = b""  # the body exactly as it arrived


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
    _signing: dict[str, str] = field(default_factory=dict)
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

    def require_signature(self, name: str, secret: str) -> None:
        """From now on ``name`` answers 401 to a request whose Standard Webhooks signature does
        not verify against ``secret`` (``whsec_<base64>``), checked before any script."""
        with self._lock:
            self._signing[name] = secret

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
        raw: bytes = b"",
    ) -> None:
        received = Received(
            idempotency_key=request.headers.get("idempotency-key"),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            status=status,
            at=time.monotonic(),
            arrived=arrived,
            raw=raw,
        )
        with self._lock:
            self._received.setdefault(name, []).append(received)

    async def _wait(self, delay_s: float) -> None:
        # Waits on the stop signal, so that stopping the server does not sit out a long delay.
        await asyncio.to_thread(self._stopping.wait, delay_s)

    async def _handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        raw = await request.body()
        with self._lock:
            secret = self._signing.get(name)
        if secret is not None:
            unsigned = signature_problem(secret, request.headers, raw, time.time())
            if unsigned is not None:
                self._record(name, request, None, 401, raw=raw)
                return JSONResponse(
                    {"title": "Signature not verified", "status": 401, "detail": unsigned},
                    status_code=401,
                    media_type="application/problem+json",
                )
        body, problem = check_cloudevent(request.headers.get("content-type", ""), raw)
        if problem is not None:
            self._record(name, request, body, 400, raw=raw)
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
        self._record(name, request, body, status, arrived, raw)
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


def signature_problem(
    secret: str, headers: Mapping[str, str], raw: bytes, now: float
) -> str | None:
    """What keeps a request from verifying as a Standard Webhooks request (spec 1.0.0,
    "Verifying signatures"), or None: the three headers present, the timestamp within
    SIGNATURE_TOLERANCE_S of ``now`` (unix seconds), and one ``v1`` signature equal, compared in
    constant time, to HMAC-SHA256 under ``secret`` of ``{id}.{timestamp}.{raw}``."""
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signed = headers.get("webhook-signature")
    if not (msg_id and stamp and signed):
        return "webhook-id, webhook-timestamp and webhook-signature are required"
    if not (stamp.isascii() and stamp.isdigit()):
        return "webhook-timestamp is not unix seconds"
    if abs(now - int(stamp)) > SIGNATURE_TOLERANCE_S:
        return "webhook-timestamp is too far from now"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    given = [s.removeprefix("v1,") for s in signed.split() if s.startswith("v1,")]
    wanted = base64.b64encode(expected).decode()
    if not any(hmac.compare_digest(wanted, signature) for signature in given):
        return "no v1 signature matches"
    return None


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
