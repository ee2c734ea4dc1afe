"""Starting and closing aiokafka clients so that no cancellation leaves a connection open.

aiokafka 0.14's ``AIOKafkaClient.bootstrap`` (run by every client's ``start``) opens a first
connection and asks it for the cluster's metadata; cancelled while it waits for that answer, it
neither closes the connection nor keeps it where ``stop``/``close`` would find it (it catches
only KafkaError and TimeoutError there; aio-libs/aiokafka#715 is the same family). The socket
stays open until the garbage collector finds it ("Unclosed AIOKafkaConnection"), and a hub that
stops while a background task starts a client (the lag meter, a store, the first sync) leaks
one per stop. Every client the hub makes is therefore started with ``start_client``: the start
itself is never cut short, and a client whose start failed or was cancelled is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

__all__ = ["KafkaClient", "close_client", "start_client"]

KafkaClient: TypeAlias = AIOKafkaConsumer | AIOKafkaProducer | AIOKafkaAdminClient


async def start_client(client: KafkaClient) -> None:
    """Start ``client``. Raises what its start raised (KafkaConnectionError when no broker
    answers), or CancelledError when the caller was cancelled; either way the client is closed
    first. A cancelled caller waits for the start under way to end (at most the client's
    ``request_timeout_ms`` per connection attempt), then closes it."""
    starting = asyncio.ensure_future(client.start())
    try:
        await asyncio.shield(starting)
    except asyncio.CancelledError:
        await asyncio.wait({starting})  # not cancelled with us: it ends on its own
        if not starting.cancelled():
            starting.exception()  # retrieved: the caller's cancellation is what counts
        await close_client(client)
        raise
    except BaseException:
        await close_client(client)
        raise


async def close_client(client: KafkaClient) -> None:
    """Close ``client`` (``stop`` for a consumer or producer, ``close`` for an admin client),
    whether or not it started; what closing raises is not the caller's concern."""
    with contextlib.suppress(Exception):
        if isinstance(client, AIOKafkaAdminClient):
            await client.close()
        else:
            await client.stop()
