"""The stack's ceiling for the intake: a minimal FastAPI endpoint that awaits one aiokafka send.

``python -m benchmarks.minimal_intake --port P --bootstrap B --topic T`` serves
``POST /api/v1/tenants/{tenant}/submissions``: it reads the body and awaits one send of it to
``T`` with the hub's producer guarantees (acks=all, idempotence), then answers 202 with the
topic, partition and offset, as the hub does. No authentication, no validation, no router in the
same process. It is served exactly as ``knooppunt run`` serves the hub
(``hub.runtime.serving``: one uvicorn server on uvloop with httptools, no access log, on a socket
with TCP_NODELAY).
"""

from __future__ import annotations

import argparse
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hub.runtime.serving import listening_socket, server_config

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["build_app", "main"]


def build_app(bootstrap: str, topic: str) -> FastAPI:
    producer: list[AIOKafkaProducer] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        started = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        await started.start()
        producer.append(started)
        try:
            yield
        finally:
            await started.stop()

    # As the hub's app (hub.runtime.assembly): FastAPI's own OpenTelemetry look-ups off.
    app = FastAPI(lifespan=lifespan, telemetry={"tracing": False, "metrics": False, "logs": False})

    @app.post("/api/v1/tenants/{tenant}/submissions", status_code=202)
    async def submit(tenant: str, request: Request) -> JSONResponse:
        sent = await producer[0].send_and_wait(topic, await request.body(), key=tenant.encode())
        return JSONResponse(
            {"topic": sent.topic, "partition": sent.partition, "offset": sent.offset},
            status_code=202,
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    args = parser.parse_args()
    sock = listening_socket("127.0.0.1", args.port)
    uvicorn.Server(server_config(build_app(args.bootstrap, args.topic))).run(sockets=[sock])


if __name__ == "__main__":
    main()
