"""What a source connector is: something that turns what an external system says into contract
events. Two kinds, after Benthos' inputs:

- ``PushSource``: the external system calls us. The source builds a FastAPI ``APIRouter`` from a
  ``SourceContext``; the hub mounts it. A handler authenticates the caller for a tenant
  (``context.authenticate``), publishes with ``context.publish`` (returns once Kafka acknowledged
  the record, so an accepted request is never lost) and refuses bad input by raising
  ``SourceRefused``, which the hub answers as RFC 9457 ``application/problem+json``.
- ``PollingSource``: we ask the external system. The hub's runner calls ``poll(context,
  checkpoint)`` for each tenant it is configured for, publishes the returned events, awaits
  Kafka's acknowledgements, and only then stores ``next_checkpoint`` durably; after a restart
  ``poll`` gets the last stored one. Events are published at least once: a crash between publish
  and checkpoint polls the same events again, with the same ``event_id`` (make it stable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from contracts.errors import KnooppuntError

if TYPE_CHECKING:
    from fastapi import APIRouter

    from connectors.sdk.attachments import AttachmentStore
    from connectors.sdk.context import ConnectorContext, MetricsHook, TenantInfo
    from contracts.registry import ContractSpec

__all__ = [
    "Caller",
    "NewEvent",
    "PollResult",
    "PollingSource",
    "Published",
    "PushSource",
    "SourceContext",
    "SourceRefused",
]


class SourceRefused(KnooppuntError):  # noqa: N818 - a refusal, not an error of ours
    """Refuse a request with an HTTP problem (RFC 9457): ``status`` (400, 401, 403, 404, 409...),
    a short ``title``, a ``detail`` sentence, a machine-readable ``code`` and, for 400, the
    ``invalid_params`` (``{"name", "code", "reason"}``, never the submitted value)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        code: str = "refused",
        invalid_params: Sequence[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code
        self.invalid_params = list(invalid_params) if invalid_params is not None else None


@dataclass(frozen=True)
class Caller:
    """An authenticated API client: its id and the tenants it may act for."""

    id: str
    tenants: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    """A published event: its id and type, and where Kafka wrote it."""

    id: str
    type: str
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class NewEvent:
    """One event a source wants published: a payload of contract ``spec`` for ``tenant``.

    ``event_id`` must be stable for the same external fact (derive it, e.g. UUIDv5 of the
    external id), so a resend or a re-poll is recognised downstream as the same event.
    ``source_system`` is the last part of the CloudEvents source URN
    (``urn:nld:oin:<tenant OIN>:systeem:<source_system>``). ``fingerprint`` says when a resend
    of ``event_id`` is the same (the hub answers it with the first answer) or other content
    (refused): by default the event's data; a source whose resends differ in a detail that does
    not make them another submission (a registration time) gives its own.
    """

    spec: ContractSpec
    payload: Any
    tenant: str
    event_id: str
    source_system: str
    traceparent: str | None = None
    fingerprint: bytes | None = None


# Publish one event, validated against its contract first (ContractError names the field and
# nothing is sent); returns once Kafka acknowledged it.
Publish = Callable[[NewEvent], Awaitable[Published]]
# The hub's JWT check: (Authorization header value, tenant) -> the caller, or SourceRefused
# (401 not authenticated, 403 not bound to the tenant, 404 unknown tenant).
Authenticate = Callable[[str | None, str], Caller]


@dataclass(frozen=True)
class SourceContext:
    """What a push source gets from the hub to build its routes."""

    authenticate: Authenticate
    publish: Publish
    tenant: Callable[[str], TenantInfo | None]
    metrics: MetricsHook
    config: Any = None  # the source's validated config model, if it has one
    attachments: AttachmentStore | None = None  # the hub's blob store (connectors.sdk.attachments)


@runtime_checkable
class PushSource(Protocol):
    """A source the external system calls: HTTP routes the hub mounts."""

    def router(self, context: SourceContext) -> APIRouter:
        """The routes (with OpenAPI summaries and responses), built once at assembly."""
        ...


@dataclass(frozen=True)
class PollResult:
    """What one poll found: events to publish, in order, and the checkpoint after them.

    ``next_checkpoint`` is opaque to the hub (a timestamp, a cursor, an offset), at most 1 KiB;
    the same as the previous one when nothing new was found.
    """

    events: Sequence[NewEvent]
    next_checkpoint: str
    # Checkpoints on the way: ``(n, checkpoint)`` says the poll may resume from ``checkpoint``
    # once the first ``n`` events are on Kafka; the hub stores each as it gets there, so a
    # crash in a long round repeats at most the events after the last one (ascending n).
    progress: Sequence[tuple[int, str]] = ()


@runtime_checkable
class PollingSource(Protocol):
    """A source the hub polls, per tenant, every ``interval_s`` seconds; built per tenant by
    its spec's ``poll(config, context)`` when the hub starts."""

    interval_s: float

    async def poll(self, context: ConnectorContext, checkpoint: str | None) -> PollResult:
        """Ask the external system what is new since ``checkpoint`` (None: the very first
        poll). Raise to skip this round: the checkpoint stays, the next round asks again."""
        ...
