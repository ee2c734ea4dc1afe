"""The ``nrc-callback`` sink (Notificaties API 1.0, "Abonneren en ontvangen"): the notification
is POSTed to the subscriber's callback URL as the JSON message the Notificaties API defines
(``kanaal``, ``hoofdObject``, ``resource``, ``resourceUrl``, ``actie``, ``aanmaakdatum``,
``kenmerken``), with ``Content-Type: application/json`` and the abonnement's ``auth`` as
``Authorization``; any 2xx answer takes it (Open Notificaties' rule). The event's payload is
that message already (contracts/zgw/v1.py), sent byte for byte as it was published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from connectors.nrc_callback.config import NrcCallbackConfig
    from connectors.sdk import ConnectorContext, Delivery, Outcome

__all__ = ["NrcCallbackSink", "build"]

REQUIRED = ("kanaal", "hoofdObject", "resource", "resourceUrl", "actie", "aanmaakdatum")


class NrcCallbackSink:
    """A ``Sink`` that POSTs each notification once to ``config.url``. ``Idempotency-Key`` is
    sent too (a subscriber may use it to drop a redelivery; the Notificaties API has none)."""

    max_in_flight = DEFAULT_MAX_IN_FLIGHT

    def __init__(self, config: NrcCallbackConfig, context: ConnectorContext) -> None:
        self.config, self._url = config, str(config.url)
        self._secrets = context.secrets
        self._where = f"tenant {context.tenant.id}, destination {context.destination}"
        auth = (
            HeaderAuth(header="Authorization", value_env=config.auth_header_env)
            if config.auth_header_env
            else NoAuth()
        )
        self._client = context.http.client(auth=auth, timeout_s=config.timeout_s)

    async def open(self) -> None:
        """Refuse the start when the Authorization variable is not set (SecretMissingError
        naming tenant, destination and variable); connections are made on first use."""
        if self.config.auth_header_env:
            try:
                self._secrets.get(self.config.auth_header_env)
            except SecretMissingError as exc:
                raise SecretMissingError(f"{self._where}: auth_header_env: {exc}") from None

    async def deliver(self, delivery: Delivery) -> Outcome:
        problem = _not_a_notification(delivery.event.data)
        if problem is not None:
            return Permanent(f"not a Notificaties API message: {problem}")
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": delivery.idempotency_key,
        }
        if delivery.event.traceparent:
            headers["traceparent"] = delivery.event.traceparent
        response = await answer_or_failure(
            self._client.post(self._url, body=delivery.event.data, headers=headers),
            "auth_header_env",
        )
        if not isinstance(response, HttpResponse):
            return response
        return Delivered()

    async def check(self) -> Health:
        """OPTIONS on the callback URL: any HTTP answer means the subscriber is reachable."""
        try:
            response = await self._client.options(self._url)
        except (HttpError, SecretMissingError) as exc:
            return Health(ok=False, detail=f"{self.config.url.host}: {type(exc).__name__}")
        return Health(ok=True, detail=f"{self.config.url.host} answered {response.status}")

    async def close(self) -> None:
        await self._client.aclose()


def _not_a_notification(data: bytes) -> str | None:
    """Why ``data`` is not a Notificaties API message (a JSON object with the required
    fields), or None."""
    try:
        message = orjson.loads(data or b"null")
    except orjson.JSONDecodeError:
        return "not JSON"
    if not isinstance(message, dict):
        return "not a JSON object"
    missing = [name for name in REQUIRED if name not in message]
    return f"missing {', '.join(missing)}" if missing else None


def build(config: NrcCallbackConfig, context: ConnectorContext) -> NrcCallbackSink:
    """The factory named in the connector's SPEC."""
    return NrcCallbackSink(config, context)
