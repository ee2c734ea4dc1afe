"""The ``webhook`` sink: POST each event to a back office as a structured-mode CloudEvent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from connectors.sdk import (
    DEFAULT_MAX_IN_FLIGHT,
    Delivered,
    HeaderAuth,
    Health,
    HttpError,
    HttpResponse,
    NoAuth,
    Permanent,
    SecretMissingError,
)
from connectors.sdk.http import answer_or_failure
from contracts.errors import ContractError

if TYPE_CHECKING:
    from connectors.sdk import ConnectorContext, Delivery, Outcome
    from connectors.webhook.config import WebhookConfig
    from contracts.cloudevents import CloudEvent

__all__ = ["CONTENT_TYPE", "WebhookSink", "build", "reference_of", "structured_event"]

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def structured_event(event: CloudEvent) -> dict[str, Any]:
    """The event as one JSON object (CloudEvents JSON format), the payload under ``data``.

    Every attribute the event carries is in it, extensions included; absent ones are left out.
    ``data`` is the payload's own JSON text, spliced in unchanged (``orjson.Fragment``), so every
    number and string reaches the back office exactly as it was sent. Raises ContractError when
    the payload is not JSON.
    """
    if event.data:
        try:
            orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            raise ContractError(f"payload is not JSON: {exc}", "data") from exc
    document: dict[str, Any] = {**event.attributes(), "datacontenttype": event.datacontenttype}
    if event.data:
        document["data"] = orjson.Fragment(event.data)
    return document


def reference_of(response: HttpResponse) -> str | None:
    """What the back office called the thing it made: the Location header (made absolute against
    the request URL), else a JSON object body's string ``url``, else None."""
    location = response.location()
    if location:
        return location
    if not response.body:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    url = body.get("url") if isinstance(body, dict) else None
    return url if isinstance(url, str) else None


def request_headers(delivery: Delivery) -> dict[str, str]:
    """The per-delivery headers: Content-Type, Idempotency-Key and traceparent. (Static headers
    and Authorization are the client's.)"""
    headers = {"Content-Type": CONTENT_TYPE, "Idempotency-Key": delivery.idempotency_key}
    if delivery.event.traceparent:
        headers["traceparent"] = delivery.event.traceparent
    return headers


class WebhookSink:
    """A ``Sink`` that POSTs each delivery once to ``config.url``; one HTTP client, reused.

    ``deliver`` returns ``Delivered`` on 2xx, otherwise the failure classified by
    connectors.sdk.http. It never retries or sleeps: that is the delivery worker's job.
    """

    max_in_flight = DEFAULT_MAX_IN_FLIGHT

    def __init__(self, config: WebhookConfig, context: ConnectorContext) -> None:
        self.config = config
        self._url = str(config.url)
        auth = (
            HeaderAuth(header="Authorization", value_env=config.auth_header_env)
            if config.auth_header_env
            else NoAuth()
        )
        self._client = context.http.client(
            auth=auth, timeout_s=config.timeout_s, headers=config.headers
        )

    async def open(self) -> None:
        """Nothing to prepare: connections are made on the first delivery."""

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            body = orjson.dumps(structured_event(delivery.event))
        except ContractError as exc:
            return Permanent(f"cannot send the event: {exc}")
        response = await answer_or_failure(
            self._client.post(self._url, body=body, headers=request_headers(delivery)),
            "auth_header_env",
        )
        if not isinstance(response, HttpResponse):
            return response
        reference = reference_of(response)
        return Delivered({"location": reference} if reference else {})

    async def check(self) -> Health:
        """OPTIONS on the url: any HTTP answer means the back office is reachable."""
        try:
            response = await self._client.options(self._url)
        except (HttpError, SecretMissingError) as exc:
            return Health(ok=False, detail=f"{self.config.url.host}: {type(exc).__name__}")
        return Health(ok=True, detail=f"{self.config.url.host} answered {response.status}")

    async def close(self) -> None:
        """Close the HTTP client and its connections; the sink is not used afterwards."""
        await self._client.aclose()


def build(config: WebhookConfig, context: ConnectorContext) -> WebhookSink:
    """The factory named in the connector's SPEC."""
    return WebhookSink(config, context)
