"""What a connector may use besides its own config: the tenant, secrets, HTTP clients, a logger
and metrics. The hub builds one ``ConnectorContext`` per tenant and destination (or source).

Secrets are never in YAML: a connector's config names an environment variable
(``connectors.sdk.secrets.SecretName``) and the connector resolves it through ``secrets`` when it
needs it. Metrics labels stay bounded: a connector
counts under a fixed ``name`` and an ``outcome`` from a short list it chose, never an id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from connectors.sdk.attachments import AttachmentStore
from connectors.sdk.http_client import HttpClients
from connectors.sdk.http_messages import HttpTransport
from connectors.sdk.http_transport import ConnectionPool
from connectors.sdk.secrets import Secrets

__all__ = [
    "ConnectorContext",
    "MetricsHook",
    "NoMetrics",
    "TenantInfo",
]


@dataclass(frozen=True)
class TenantInfo:
    """The municipality a connector works for: CBS gemeentecode, OIN (20 digits), RSIN (9)."""

    id: str
    oin: str
    rsin: str


class MetricsHook(Protocol):
    """Counters a connector may bump. ``name`` and ``outcome`` are snake_case words from a
    fixed set the connector chose (``token_fetch`` / ``ok``); the hub adds tenant, destination
    and connector as labels and ignores values that would make the label set unbounded."""

    def count(self, name: str, outcome: str) -> None: ...


class NoMetrics:
    """A MetricsHook that counts nothing (tests, tools)."""

    def count(self, name: str, outcome: str) -> None:
        return None


@dataclass(frozen=True)
class ConnectorContext:
    """Everything a connector gets from the hub for one tenant and one destination (sinks) or
    one source. ``log`` is a structlog logger bound to ``tenant`` and ``destination``; the
    hub's redaction runs over every line, but a connector logs no personal data to begin with.
    """

    tenant: TenantInfo
    destination: str
    connector: str
    secrets: Secrets = field(default_factory=Secrets)
    metrics: MetricsHook = field(default_factory=NoMetrics)
    transport: HttpTransport | None = None  # tests: every HTTP client sends through it
    pool: ConnectionPool | None = None  # the hub's, shared by every destination's clients
    attachments: AttachmentStore | None = None  # the hub's blob store (connectors.sdk.attachments)

    async def read_attachment(self, url: str, sha256: str | None = None) -> bytes:
        """The bytes of an attachment of this tenant's event (its ``url``), checked against its
        ``sha256`` when given. Raises LookupError when the hub has none at ``url`` and
        ValueError when the bytes do not match ``sha256``."""
        if self.attachments is None:
            raise LookupError("this hub keeps no attachments (no blob store)")
        content = await self.attachments.read(self.tenant.id, url)
        if sha256 is not None and hashlib.sha256(content).hexdigest() != sha256.lower():
            raise ValueError(f"the attachment at {url} does not match its sha256")
        return content

    async def missing_attachments(self, attachments: Sequence[Mapping[str, object]]) -> list[int]:
        """The numbers (from 1) of the ``attachments`` (a submission's: ``url``, optional
        ``inline_base64``) that are neither inline nor in the hub's store: a multi-step sink asks
        before its first step, so a file it can never read is refused before a zaak is made.
        Raises when the store does not answer (a retryable failure)."""
        missing = []
        for number, attachment in enumerate(attachments, 1):
            if attachment.get("inline_base64") is not None:
                continue
            url = str(attachment.get("url", ""))
            if self.attachments is None or not await self.attachments.has(self.tenant.id, url):
                missing.append(number)
        return missing

    @property
    def http(self) -> HttpClients:
        """The HTTP client factory, resolving secrets through ``secrets``."""
        return HttpClients(self.secrets, self.transport, self.pool)

    @property
    def log(self) -> structlog.stdlib.BoundLogger:
        logger: structlog.stdlib.BoundLogger = structlog.get_logger(
            f"connectors.{self.connector}"
        ).bind(tenant=self.tenant.id, destination=self.destination)
        return logger
