"""The ``webhook`` sink: POSTs each event to a back office as a structured CloudEvent."""

from __future__ import annotations

from connectors.sdk import SinkSpec
from connectors.webhook.config import WebhookConfig
from connectors.webhook.sink import WebhookSink, build

__all__ = ["SPEC", "WebhookConfig", "WebhookSink"]

SPEC = SinkSpec(
    name="webhook",
    config=WebhookConfig,
    summary="POSTs each event as a structured-mode CloudEvent with an Idempotency-Key.",
    accepts=("*",),
    build=build,
    example={
        "url": "https://zaken.example/api/events",
        "timeout_s": 10,
        "auth_header_env": "KNOOPPUNT_ZAAKSYSTEEM_AUTH",
    },
)
