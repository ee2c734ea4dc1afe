"""A fake subscriber of a Notificaties API: a real HTTP server on loopback that takes callbacks.

Built from the Notificaties API 1.0 specification (VNG-Realisatie/notificaties-api, the
``Notificatie`` schema a subscriber receives at its ``callbackUrl``): a JSON object with
``kanaal`` (string, at most 50), ``hoofdObject`` and ``resourceUrl`` (absolute URIs),
``resource`` and ``actie`` (strings, at most 100), ``aanmaakdatum`` (RFC 3339 date-time) and
optional ``kenmerken`` (an object of string values). Anything else is answered 400, so a hub
that sends another shape fails its tests as a real subscriber would fail it.

- ``expect_auth(value)``: from then on, a request whose Authorization is not ``value`` gets 403;
- ``script(status, times)``: the next ``times`` callbacks are answered ``status`` (and not kept);
- ``received`` every request, ``notifications`` the messages kept (2xx), ``effects()`` those
  with distinct Idempotency-Keys (a redelivery counts once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = [
    "Callback",
    "FakeSubscriber",
    "SubscriberConformanceFake",
    "conformance_subscriber",
    "notification_problems",
    "running_subscriber",
]


@dataclass(frozen=True)
class Callback:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


def _uri(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def notification_problems(message: Any) -> list[str]:
    """What makes ``message`` not a Notificaties API ``Notificatie`` (empty when it is one)."""
    if not isinstance(message, dict):
        return ["not a JSON object"]
    problems = []
    for name, limit in (("kanaal", 50), ("resource", 100), ("actie", 100)):
        value = message.get(name)
        if not isinstance(value, str) or not value or len(value) > limit:
            problems.append(f"{name}: required string of at most {limit}")
    for name in ("hoofdObject", "resourceUrl"):
        if not _uri(message.get(name)):
            problems.append(f"{name}: required absolute URI")
    created = message.get("aanmaakdatum")
    try:
        if not isinstance(created, str) or datetime.fromisoformat(created).tzinfo is None:
            problems.append("aanmaakdatum: required date-time with an offset")
    except ValueError:
        problems.append("aanmaakdatum: not a date-time")
    kenmerken = message.get("kenmerken", {})
    if not isinstance(kenmerken, dict) or not all(isinstance(v, str) for v in kenmerken.values()):
        problems.append("kenmerken: an object of strings")
    known = {"kanaal", "hoofdObject", "resource", "resourceUrl", "actie", "aanmaakdatum"}
    problems += [f"{name}: unknown field" for name in message if name not in known | {"kenmerken"}]
    return problems


@dataclass
class FakeSubscriber:
    port: int = 0
    received: list[Callback] = field(default_factory=list)
    _auth: str | None = None
    _scripted: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "callback") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def expect_auth(self, value: str | None) -> None:
        with self._lock:
            self._auth = value

    def script(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._scripted.extend([status] * times)

    def notifications(self, path: str | None = None) -> list[dict[str, Any]]:
        """The messages taken (answered 2xx), oldest first; of one callback path when given."""
        with self._lock:
            kept = [r for r in self.received if 200 <= r.status < 300]
        return [orjson.loads(r.body) for r in kept if path is None or r.path == path]

    def effects(self) -> int:
        with self._lock:
            kept = [r for r in self.received if 200 <= r.status < 300]
        return len({r.headers.get("idempotency-key") or id(r) for r in kept})

    async def _callback(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, answer = self._answer(headers, body)
        with self._lock:
            self.received.append(Callback(request.url.path.lstrip("/"), headers, body, status))
        if status == 204:
            return Response(status_code=204)
        return JSONResponse(answer, status_code=status)

    def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        with self._lock:
            expected, scripted = self._auth, (self._scripted.pop(0) if self._scripted else None)
        if expected is not None and headers.get("authorization") != expected:
            return 403, {"detail": "Authorization refused"}
        if not headers.get("content-type", "").startswith("application/json"):
            return 415, {"detail": "Content-Type must be application/json"}
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 400, {"detail": "not JSON"}
        problems = notification_problems(message)
        if problems:
            return 400, {"detail": "not a Notificatie", "problems": problems}
        if scripted is not None:
            return scripted, {"detail": f"scripted {scripted}"}
        return 204, None


@contextmanager
def running_subscriber(port: int = 0) -> Iterator[FakeSubscriber]:
    """A FakeSubscriber on a free loopback port (or ``port``: one back on its old address)."""
    fake = FakeSubscriber()

    def app_for(port: int) -> Starlette:
        fake.port = port
        route = Route("/{path:path}", fake._callback, methods=["POST"])
        return Starlette(routes=[route])

    with serving(app_for, "fake-nrc-subscriber", port):
        yield fake


@dataclass
class SubscriberConformanceFake:
    """The fake as the shared sink conformance suite drives it (connectors.sdk.conformance)."""

    fake: FakeSubscriber
    auth: str

    def settings(self) -> dict[str, Any]:
        return {"url": self.fake.url("conformance")}

    def fail_next(self, kind: str) -> None:
        self.fake.script(503 if kind == "retryable" else 400)

    def effects(self) -> int:
        return self.fake.effects()


@contextmanager
def conformance_subscriber(auth: str) -> Iterator[SubscriberConformanceFake]:
    with running_subscriber() as fake:
        fake.expect_auth(auth)
        yield SubscriberConformanceFake(fake, auth)
