"""How the hub's HTTP side is served: one uvicorn server on uvloop with the httptools parser, on a
listening socket with TCP_NODELAY.

Both are C implementations of what uvicorn otherwise does in Python (the asyncio event loop and
its socket transport, the h11 parser): about a quarter of the intake's profile before
(docs/design.md, "Serving the intake"). ``benchmarks/minimal_intake.py`` is served by the same
two functions, so that the intake's ratio to it compares the endpoints, not the servers.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["HTTP_PARSER", "LOOP", "listening_socket", "server_config"]

LOOP = "uvloop"
HTTP_PARSER = "httptools"


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with TCP_NODELAY: uvicorn writes a response's headers and
    body apart, and with Nagle's algorithm the body would wait for the client's delayed ACK
    (about 40 ms). Raises OSError when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def server_config(app: ASGIApp, graceful_shutdown_s: float | None = None) -> uvicorn.Config:
    """uvicorn's config for ``app``: uvloop, httptools, no access log (normal operation emits no
    logs), the app's lifespan run, our logging left alone."""
    return uvicorn.Config(
        app,
        loop=LOOP,
        http=HTTP_PARSER,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=None if graceful_shutdown_s is None else int(graceful_shutdown_s),
    )
