"""The ``webhook`` sink: POST each event to a back office as a structured-mode CloudEvent."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from connectors.http_outcome import failure_for_exception, failure_for_status
from connectors.sink import Delivered, DeliveryError
from contracts.errors import ContractError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connectors.sink import Delivery, SinkContext
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


def reference_of(response: httpx.Response) -> str | None:
    """What the back office called the thing it made: the Location header (made absolute against
    the request URL), else a JSON object body's string ``url``, else None."""
    location = response.headers.get("location")
    if location:
        return str(response.request.url.join(location))
    try:
        body = response.json()
    except ValueError:
        return None
    url = body.get("url") if isinstance(body, dict) else None
    return url if isinstance(url, str) else None


def request_headers(
    config: WebhookConfig, delivery: Delivery, environ: Mapping[str, str]
) -> dict[str, str]:
    """The headers of one POST: the static ones, Content-Type, Idempotency-Key, traceparent and
    Authorization. A missing auth variable is a permanent DeliveryError naming it (not a value)."""
    headers = {
        **config.headers,
        "Content-Type": CONTENT_TYPE,
        "Idempotency-Key": delivery.idempotency_key,
    }
    if delivery.event.traceparent:
        headers["traceparent"] = delivery.event.traceparent
    if config.auth_header_env:
        secret = environ.get(config.auth_header_env)
        if not secret:
            raise DeliveryError(
                f"environment variable {config.auth_header_env} (auth_header_env) is not set",
                permanent=True,
            )
        headers["Authorization"] = secret
    return headers


class WebhookSink:
    """A ``Sink`` that POSTs each delivery once to ``config.url``; one HTTP client, reused.

    ``deliver`` returns ``Delivered`` on 2xx and raises DeliveryError otherwise, classified by
    connectors.http_outcome. It never retries or sleeps: that is the delivery worker's job.
    """

    def __init__(self, config: WebhookConfig, context: SinkContext) -> None:
        self.config = config
        self._environ = context.environ
        # TCP_NODELAY: httpx writes headers and body separately; with Nagle's algorithm the body
        # then waits for the server's delayed ACK, about 40 ms per request.
        transport = context.transport or httpx.AsyncHTTPTransport(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        self._client = httpx.AsyncClient(timeout=config.timeout_s, transport=transport)

    async def deliver(self, delivery: Delivery) -> Delivered:
        headers = request_headers(self.config, delivery, self._environ)
        try:
            body = orjson.dumps(structured_event(delivery.event))
        except ContractError as exc:
            raise DeliveryError(f"cannot send the event: {exc}", permanent=True) from exc
        try:
            response = await self._client.post(str(self.config.url), content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise failure_for_exception(exc) from exc
        failure = failure_for_status(response.status_code, response.headers, datetime.now(UTC))
        if failure is not None:
            raise failure
        return Delivered(reference=reference_of(response))

    async def close(self) -> None:
        """Close the HTTP client and its connections; the sink is not used afterwards."""
        await self._client.aclose()


def build(config: WebhookConfig, context: SinkContext) -> WebhookSink:
    """The factory named in the connector's SPEC."""
    return WebhookSink(config, context)
