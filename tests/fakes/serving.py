"""Serving a fake as a real HTTP server: uvicorn in a thread of its own, on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

import uvicorn
from starlette.applications import Starlette

__all__ = ["serving"]

START_TIMEOUT_S = 10.0


@contextmanager
def serving(app_for: Callable[[int], Starlette], name: str, port: int = 0) -> Iterator[int]:
    """Serve ``app_for(port)`` on a free loopback port (bound first, so no other test takes it
    meanwhile), or on ``port`` when given (the demo's back offices); yields the port once the
    server answers, stops it and joins its thread on exit. RuntimeError when it does not start
    or stop within ``START_TIMEOUT_S``; OSError when ``port`` is taken."""
    with closing(socket.socket()) as sock:
        # TCP_NODELAY: uvicorn writes headers and body apart; Nagle would hold the body back.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A fixed port (the demo's back offices) is taken again at once after a stop, not only
        # when its connections' TIME_WAIT is over (about a minute).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app_for(port), log_config=None, access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
        )
        thread.start()
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not server.started:
                if time.monotonic() > deadline or not thread.is_alive():
                    raise RuntimeError(f"{name} did not start")
                time.sleep(0.01)
            yield port
        finally:
            server.should_exit = True
            thread.join(START_TIMEOUT_S)
    if thread.is_alive():
        raise RuntimeError(f"{name} did not stop")
