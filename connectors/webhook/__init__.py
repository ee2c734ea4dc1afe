"""The ``webhook`` sink: POSTs each event to a back office as a structured CloudEvent."""

from __future__ import annotations

from connectors.spec import ConnectorSpec
from connectors.webhook.config import WebhookConfig
from connectors.webhook.sink import WebhookSink, build

__all__ = ["SPEC", "WebhookConfig", "WebhookSink"]

SPEC = ConnectorSpec(
    name="webhook",
    kind="sink",
    config=WebhookConfig,
    summary="POSTs each event as a structured-mode CloudEvent with an Idempotency-Key.",
    build=build,
)
