"""A TCP proxy in front of the real broker that holds back every request after a
connection's first: a client bootstrapping through it sends ApiVersions (answered at once),
then waits ``hold_s`` for its Metadata answer, the moment in which a cancelled start used to
leave its connection open (hub.kafka.clients)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["slow_after_first_request"]


async def _pipe_frames(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold_s: float
) -> None:
    """Copy Kafka frames (a 4-byte big-endian size, then the body), holding all but the first."""
    first = True
    while True:
        size = await reader.readexactly(4)
        body = await reader.readexactly(int.from_bytes(size, "big"))
        if not first:
            await asyncio.sleep(hold_s)
        first = False
        writer.write(size + body)
        await writer.drain()


async def _pipe_bytes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(65536):
        writer.write(chunk)
        await writer.drain()


@asynccontextmanager
async def slow_after_first_request(bootstrap: str, hold_s: float) -> AsyncIterator[str]:
    """Yield ``host:port`` of a proxy to ``bootstrap`` (the broker's own address is what the
    metadata names, so later connections go straight to it)."""
    host, port = bootstrap.rsplit(":", 1)
    serving: set[asyncio.Task[None]] = set()
    writers: set[asyncio.StreamWriter] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        serving.add(task)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writers.update((writer, up_writer))
        both = {
            asyncio.create_task(_pipe_frames(reader, up_writer, hold_s)),
            asyncio.create_task(_pipe_bytes(up_reader, writer)),
        }
        await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
        for w in (writer, up_writer):
            w.close()  # the other pipe ends on it
        await asyncio.gather(*both, return_exceptions=True)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for w in writers:
            w.close()
        if serving:
            await asyncio.wait(serving, timeout=5)
        await server.wait_closed()
