"""Builds the ``ConnectorContext`` of one connector instance (one tenant, one destination or
source): the tenant's OIN and RSIN, secrets from the environment, HTTP transport for tests, and
a metrics hook whose labels stay bounded."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from connectors.sdk import ConnectorContext, Secrets, TenantInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connectors.sdk import AttachmentStore, ConnectionPool, HttpTransport
    from hub.config import Tenant
    from hub.observability.metrics import Metrics

__all__ = ["BoundedConnectorMetrics", "connector_context"]

_WORD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_SERIES_PER_CONNECTOR = 32  # (name, outcome) pairs one connector instance may count


class BoundedConnectorMetrics:
    """A connectors.sdk MetricsHook on ``knooppunt_connector_events_total``. A name or outcome
    that is not a short snake_case word, or a pair beyond the first MAX_SERIES_PER_CONNECTOR,
    is counted as ``other``: a connector bug must not make the label set unbounded."""

    def __init__(self, metrics: Metrics, connector: str, tenant: str, destination: str) -> None:
        self._counter = metrics.connector_events
        self._labels = (connector, tenant, destination)
        self._seen: set[tuple[str, str]] = set()

    def count(self, name: str, outcome: str) -> None:
        pair = (name, outcome)
        if not (_WORD.fullmatch(name) and _WORD.fullmatch(outcome)) or (
            pair not in self._seen and len(self._seen) >= MAX_SERIES_PER_CONNECTOR
        ):
            pair = ("other", "other")
        self._seen.add(pair)
        self._counter.labels(*self._labels, *pair).inc()


def connector_context(
    tenant: Tenant,
    destination: str,
    connector: str,
    metrics: Metrics,
    environ: Mapping[str, str] | None = None,
    transport: HttpTransport | None = None,
    pool: ConnectionPool | None = None,
    attachments: AttachmentStore | None = None,
) -> ConnectorContext:
    """The context of ``connector`` serving ``destination`` (or a source's name) of ``tenant``.
    Secrets are read from ``environ`` (default: the process environment, read when needed)."""
    return ConnectorContext(
        tenant=TenantInfo(tenant.id, tenant.oin, tenant.rsin),
        destination=destination,
        connector=connector,
        secrets=Secrets(os.environ if environ is None else environ),
        metrics=BoundedConnectorMetrics(metrics, connector, tenant.id, destination),
        transport=transport,
        pool=pool,
        attachments=attachments,
    )
