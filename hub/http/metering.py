"""Counting HTTP requests by route template and status (``knooppunt_http_requests_total``,
``knooppunt_http_request_seconds``).

A plain ASGI middleware, not Starlette's BaseHTTPMiddleware (which runs each request in a task
of its own and costs the intake CPU). The route is the template Starlette matched
(``/api/v1/{tenant}/submissions``), read after the app answered; never the raw path, whose
ids would make a series per request.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from hub.observability.metrics import Metrics

__all__ = ["METHODS", "UNMATCHED", "RequestMetrics", "route_label"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # a path no route serves: one series, whatever was asked for


def route_label(scope: Scope) -> str:
    """The route template that served ``scope`` (after routing), or ``unmatched``."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """Counts every HTTP request the wrapped app answers; an exception that escapes it counts
    as 500 (Starlette's outermost handler answers it so)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # labels() locks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            self._count(scope, status, time.perf_counter() - started)

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        key = (method if method in METHODS else "other", route_label(scope), status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.metrics.http_requests.labels(key[0], key[1], str(status)),
                self.metrics.http_seconds.labels(key[1]),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
