"""The ``webhook`` sink: POST each event to a back office as a structured-mode CloudEvent."""

from __future__ import annotations

import time
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
from connectors.webhook.signature import SignatureSecretError, signature_headers, signing_keys
from contracts.errors import ContractError

if TYPE_CHECKING:
    from connectors.sdk import ConnectorContext, Delivery, Outcome, Secrets
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
    connectors.sdk.http. It never retries or sleeps: that is the delivery worker's job. With
    ``signing_secret_env`` every request is signed (connectors/webhook/signature.py), the
    secret read per delivery so that a rotated one is picked up.
    """

    max_in_flight = DEFAULT_MAX_IN_FLIGHT

    def __init__(self, config: WebhookConfig, context: ConnectorContext) -> None:
        self.config = config
        self._url = str(config.url)
        self._secrets: Secrets = context.secrets
        self._where = f"tenant {context.tenant.id}, destination {context.destination}"
        auth = (
            HeaderAuth(header="Authorization", value_env=config.auth_header_env)
            if config.auth_header_env
            else NoAuth()
        )
        self._client = context.http.client(
            auth=auth, timeout_s=config.timeout_s, headers=config.headers
        )

    async def open(self) -> None:
        """Check the signing secret, when one is configured; connections are made on the first
        delivery. Raises SecretMissingError (the variable is not set) or SignatureSecretError
        (it holds no valid secret), naming tenant, destination, setting and variable."""
        env = self.config.signing_secret_env
        if env is None:
            return
        try:
            signing_keys(self._secrets.get(env))
        except SecretMissingError as exc:
            raise SecretMissingError(f"{self._where}: signing_secret_env: {exc}") from None
        except SignatureSecretError as exc:
            raise SignatureSecretError(
                f"{self._where}: signing_secret_env: environment variable {env}: {exc}"
            ) from None

    def _signed(self, delivery: Delivery, body: bytes) -> dict[str, str] | Permanent:
        """The request's headers, signed when configured; Permanent when the secret is gone."""
        headers = request_headers(delivery)
        env = self.config.signing_secret_env
        if env is None:
            return headers
        try:
            keys = signing_keys(self._secrets.get(env))
        except SecretMissingError as exc:
            return Permanent(f"{exc} (signing_secret_env)")
        except SignatureSecretError as exc:
            return Permanent(f"environment variable {env}: {exc} (signing_secret_env)")
        stamp = int(time.time())
        return headers | signature_headers(keys, delivery.idempotency_key, stamp, body)

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            body = orjson.dumps(structured_event(delivery.event))
        except ContractError as exc:
            return Permanent(f"cannot send the event: {exc}")
        headers = self._signed(delivery, body)
        if isinstance(headers, Permanent):
            return headers
        response = await answer_or_failure(
            self._client.post(self._url, body=body, headers=headers), "auth_header_env"
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
