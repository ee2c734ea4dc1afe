"""What a sink connector is: something that delivers one event at a time to one back office.

Modelled on Kafka Connect's SinkTask and Benthos' output: the framework (hub.delivery) owns
offsets, retries, retry tiers and dead letters; the sink only tries once and says how it went.

Lifecycle, driven by the hub for each push destination of each tenant::

    sink = spec.build(config, context)   # no I/O: check settings, keep them
    await sink.open()                    # connect, fetch a first token...; raising stops the start
    outcome = await sink.deliver(d)      # per event, up to max_in_flight at once, never retries
    health = await sink.check()          # on demand (readiness, `knooppunt` commands)
    await sink.close()                   # at shutdown, after the last deliver

A sink never retries or sleeps on its own: a slow back office must only delay its own topic.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from connectors.sdk.outcomes import Outcome
    from contracts.cloudevents import CloudEvent

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "Delivery", "Health", "Sink"]

DEFAULT_MAX_IN_FLIGHT = 8
_STEP_NAMESPACE = uuid.UUID("5d9a3f0e-7c2b-4e61-8f3a-1b2c3d4e5f60")


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver ``event`` to ``destination`` of ``tenant``.

    ``idempotency_key`` is the same on every attempt and every redelivery (replay) of this event
    to this destination (a UUID string). ``attempt`` is 1 for the first. ``progress`` is what
    earlier attempts of a multi-step delivery left (``Retryable.progress``); empty on the first.
    """

    event: CloudEvent
    tenant: str
    destination: str
    idempotency_key: str
    attempt: int
    progress: Mapping[str, str] = field(default_factory=dict)

    def step_key(self, step: str) -> str:
        """A stable key for one step of a multi-step delivery (``"zaak"``, ``"rol"``,
        ``"document:1"``): UUIDv5 of the idempotency key and the step name (RFC 9562 §5.5), so
        every attempt asks the back office for the same thing and it can refuse a duplicate."""
        return str(uuid.uuid5(_STEP_NAMESPACE, f"{self.idempotency_key}\n{step}"))


@dataclass(frozen=True)
class Health:
    """What ``Sink.check`` found: ``ok``, and a sentence for operators (no secrets)."""

    ok: bool
    detail: str = ""


@runtime_checkable
class Sink(Protocol):
    """A sink connector's runtime side. ``max_in_flight``: how many deliveries the hub may run
    at once on this sink (Benthos' max_in_flight); 1 when the back office needs strict order."""

    max_in_flight: int

    async def open(self) -> None:
        """Get ready to deliver (connections, tokens). Raise to refuse the start."""
        ...

    async def deliver(self, delivery: Delivery) -> Outcome:
        """Try once; return the outcome. Exceptions count as a retryable failed attempt."""
        ...

    async def check(self) -> Health:
        """Whether the back office can be reached now, without delivering anything."""
        ...

    async def close(self) -> None:
        """Release connections; the sink is not used afterwards. Safe to call twice."""
        ...
