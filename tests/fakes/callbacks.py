"""A subscriber's callback endpoint, as a real HTTP server on loopback: ``POST /<status>``
answers with that status (``/204`` accepts, ``/500`` refuses) and records what it got."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = ["CallbackReceiver", "callback_receiver"]


@dataclass
class CallbackReceiver:
    """What the receiver got: ``(path, Authorization header, JSON body)`` per request."""

    port: int = 0
    received: list[tuple[str, str | None, Any]] = field(default_factory=list)

    def url(self, status: int) -> str:
        return f"http://127.0.0.1:{self.port}/{status}"


@contextmanager
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()

    async def callback(request: Request) -> Response:
        body = await request.json()
        receiver.received.append((request.url.path, request.headers.get("authorization"), body))
        return Response(status_code=int(request.path_params["status"]))

    def app_for(_port: int) -> Starlette:
        return Starlette(routes=[Route("/{status:int}", callback, methods=["POST"])])

    with serving(app_for, "callback-receiver") as port:
        receiver.port = port
        yield receiver
