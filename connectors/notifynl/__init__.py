"""The ``notifynl`` sink: e-mail or text messages to citizens through NotifyNL (GOV.UK Notify
compatible)."""

from __future__ import annotations

from connectors.notifynl.config import NotifyNlConfig, TemplateIds
from connectors.notifynl.sink import NotifyNlSink, build
from connectors.sdk import SinkSpec

__all__ = ["SPEC", "NotifyNlConfig", "NotifyNlSink", "TemplateIds"]

SPEC = SinkSpec(
    name="notifynl",
    config=NotifyNlConfig,
    summary="Sends each message request as an e-mail or text message through NotifyNL "
    "(GOV.UK Notify API v2), at most once per event as far as Notify can tell.",
    accepts=("nl.gemeente.bericht.verzoek-aangemaakt",),
    build=build,
    example={
        "base_url": "https://api.notifynl.nl",
        "api_key_env": "KNOOPPUNT_NOTIFYNL_API_KEY",
        "templates": {
            "ontvangstbevestiging-parkeervergunning": {
                "email": "3c5d7f6e-2b1a-4c9d-8e7f-6a5b4c3d2e1f",
                "sms": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
            }
        },
        "email_reply_to_id": "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
    },
)
