"""The ``nrc-callback`` sink: POSTs each ZGW notification to a subscriber's callback URL in the
Notificaties API's own message format, as Open Notificaties does for an abonnement."""

from __future__ import annotations

from connectors.nrc_callback.config import NrcCallbackConfig
from connectors.nrc_callback.sink import NrcCallbackSink, build
from connectors.sdk import SinkSpec

__all__ = ["SPEC", "NrcCallbackConfig", "NrcCallbackSink"]

SPEC = SinkSpec(
    name="nrc-callback",
    config=NrcCallbackConfig,
    summary="POSTs each ZGW notification to a callback URL as the Notificaties API does "
    "(an abonnement's callback; also for a fixed subscriber in the config).",
    accepts=("nl.overheid",),
    build=build,
    example={
        "url": "https://zaakafhandelcomponent.example/api/notificaties",
        "auth_header_env": "KNOOPPUNT_ZAC_NRC_AUTH",
        "timeout_s": 10,
    },
)
