"""What a sink connector is: something that delivers one event to one back office.

A sink returns ``Delivered`` or raises ``DeliveryError``; the delivery worker (hub.delivery.worker)
decides what happens next (retry tier, dead letters). Sinks never retry on their own and never
sleep: a slow back office must only delay its own topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from contracts.errors import KnooppuntError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from contracts.cloudevents import CloudEvent

__all__ = ["Delivered", "Delivery", "DeliveryError", "Sink", "SinkContext"]


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver ``event`` to ``destination`` of ``tenant``."""

    event: CloudEvent
    tenant: str
    destination: str
    idempotency_key: str  # the same on every attempt: source + id + destination
    attempt: int  # 1 for the first attempt


@dataclass(frozen=True)
class Delivered:
    """The back office took the event; ``reference`` is what it returned (e.g. the zaak URL)."""

    reference: str | None = None


class DeliveryError(KnooppuntError):
    """The back office did not take the event.

    ``permanent``: retrying will not help (e.g. 400: the back office rejects the content);
    otherwise it may (timeout, 5xx, 429, connection refused). ``retry_after_s`` is the back
    office's own wish (Retry-After), when it said one.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after_s: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after_s = retry_after_s
        self.status = status


@dataclass(frozen=True)
class SinkContext:
    """What a sink may use besides its own config: the environment (for secrets referenced by
    name) and, in tests, an httpx transport."""

    environ: Mapping[str, str] = field(default_factory=dict)
    transport: httpx.AsyncBaseTransport | None = None


class Sink(Protocol):
    async def deliver(self, delivery: Delivery) -> Delivered:
        """Deliver once; raise DeliveryError when the back office did not take it."""
        ...

    async def close(self) -> None: ...
