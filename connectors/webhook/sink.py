"""The ``webhook`` sink: POST each event as a structured-mode CloudEvent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from connectors.http_outcome import failure_for_exception, failure_for_status
from connectors.sink import Delivered, DeliveryError

if TYPE_CHECKING:
    from connectors.sink import Delivery, SinkContext
    from connectors.webhook.config import WebhookConfig
    from contracts.cloudevents import CloudEvent

__all__ = ["WebhookSink", "build", "structured_event"]

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def structured_event(event: CloudEvent) -> dict[str, Any]:
    """The event as one JSON object (CloudEvents structured mode), the payload under ``data``."""
    document: dict[str, Any] = {
        "specversion": "1.0",
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "time": event.time.isoformat(),
        "subject": event.subject,
        "dataschema": event.dataschema,
        "datacontenttype": event.datacontenttype,
        "tenant": event.tenant,
        "traceparent": event.traceparent,
        "data": event.payload(),
    }
    return {name: value for name, value in document.items() if value is not None}


def _reference(response: httpx.Response) -> str | None:
    if "location" in response.headers:
        return response.headers["location"]
    try:
        body = response.json()
    except ValueError:
        return None
    url = body.get("url") if isinstance(body, dict) else None
    return url if isinstance(url, str) else None


class WebhookSink:
    def __init__(self, config: WebhookConfig, context: SinkContext) -> None:
        self.config = config
        self._environ = context.environ
        self._client = httpx.AsyncClient(timeout=config.timeout_s, transport=context.transport)

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        headers = {
            **self.config.headers,
            "Content-Type": CONTENT_TYPE,
            "Idempotency-Key": delivery.idempotency_key,
        }
        if delivery.event.traceparent:
            headers["traceparent"] = delivery.event.traceparent
        if self.config.auth_header_env:
            secret = self._environ.get(self.config.auth_header_env)
            if not secret:
                raise DeliveryError(
                    f"environment variable {self.config.auth_header_env} is not set", permanent=True
                )
            headers["Authorization"] = secret
        return headers

    async def deliver(self, delivery: Delivery) -> Delivered:
        headers = self._headers(delivery)
        body = orjson.dumps(structured_event(delivery.event))
        try:
            response = await self._client.post(str(self.config.url), content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise failure_for_exception(exc) from exc
        failure = failure_for_status(response.status_code, response.headers, datetime.now(UTC))
        if failure is not None:
            raise failure
        return Delivered(reference=_reference(response))

    async def close(self) -> None:
        await self._client.aclose()


def build(config: WebhookConfig, context: SinkContext) -> WebhookSink:
    return WebhookSink(config, context)
