"""The ``notifynl`` sink: each ``nl.gemeente.bericht.verzoek-aangemaakt`` as one e-mail or text
message through a GOV.UK Notify compatible API (NotifyNL). The I/O is here; the request
(message.py), the token (auth.py), the answers (answers.py) and the rate limit (rate_limit.py)
are decided apart."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import orjson

from connectors.notifynl.answers import failure_for_answer
from connectors.notifynl.auth import NotifyApiKey, notify_jwt, parse_api_key
from connectors.notifynl.message import NotifyRequest, notify_request
from connectors.notifynl.rate_limit import SHARED, SendWindows
from connectors.sdk import (
    Delivered,
    Health,
    HttpError,
    Permanent,
    Retryable,
    SecretMissingError,
    Throttled,
)
from connectors.sdk.http import failure_for_exception
from contracts.bericht.v1 import BerichtVerzoekAangemaakt
from contracts.errors import ContractError, KnooppuntError
from contracts.events import read_as
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.notifynl.config import NotifyNlConfig
    from connectors.sdk import ConnectorContext, Delivery, Failure, HttpResponse, Outcome

__all__ = ["BERICHT", "NotifyNlSink", "build"]

BERICHT = contract_for("nl.gemeente.bericht.verzoek-aangemaakt", 1)
_CHECK_REFERENCE = "knooppunt-check"  # a reference no message of ours has (ours are UUIDs)


class NotifyNlSink:
    """A ``Sink`` that sends each request once through Notify, unless Notify already has it.

    Per delivery: the request is read and its Notify request made (or ``Permanent``); Notify
    is asked for a notification with the delivery's idempotency key as ``reference``
    (``GET /v2/notifications?reference=…``) and when it has one, that is ``Delivered`` without
    sending again; otherwise, within the API key's client-side rate limit (else ``Throttled``
    with the seconds until a send is allowed), ``POST /v2/notifications/email|sms``.
    ``Delivered({"notification": <Notify's id>})``, or the failure classified by
    connectors.notifynl.answers. It never retries, sleeps or logs.
    """

    max_in_flight = 8

    def __init__(
        self, config: NotifyNlConfig, context: ConnectorContext, windows: SendWindows = SHARED
    ) -> None:
        self.config = config
        self._context = context
        self._windows = windows
        self._base_url = str(config.base_url).rstrip("/")
        self._where = f"tenant {context.tenant.id}, destination {context.destination}"
        self._client = context.http.client(timeout_s=config.timeout_s, base_url=self._base_url)

    def _key(self) -> NotifyApiKey:
        """The API key, read now (a rotated key is picked up). SecretMissingError when the
        variable is unset, ValueError when it holds no Notify API key."""
        return parse_api_key(self._context.secrets.get(self.config.api_key_env))

    async def open(self) -> None:
        """Check the API key's variable, so that a mistake stops the start: SecretMissingError
        or KnooppuntError, naming tenant, destination, setting and variable (never the key)."""
        env = self.config.api_key_env
        try:
            self._key()
        except SecretMissingError as exc:
            raise SecretMissingError(f"{self._where}: api_key_env: {exc}") from None
        except ValueError as exc:
            raise KnooppuntError(
                f"{self._where}: api_key_env: environment variable {env}: {exc}"
            ) from None

    def _headers(self, key: NotifyApiKey) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {notify_jwt(key, time.time())}",
            "Content-Type": "application/json",
            "User-Agent": "knooppunt-notifynl",
        }

    async def _ask(
        self, method: str, path: str, key: NotifyApiKey, body: bytes | None = None
    ) -> HttpResponse | Failure:
        """Notify's 2xx answer, else the failure (no answer: Retryable)."""
        try:
            response = await self._client.request(
                method, path, body=body, headers=self._headers(key)
            )
        except HttpError as exc:
            return failure_for_exception(exc)
        failure = failure_for_answer(
            response.status, response.headers, response.body, datetime.now(UTC)
        )
        return response if failure is None else failure

    async def _sent_before(
        self, request: NotifyRequest, reference: str, key: NotifyApiKey
    ) -> str | Failure | None:
        """The id of a notification Notify already has with ``reference``, None when it has
        none, or the failure of the lookup."""
        query = urlencode({"reference": reference, "template_type": request.type})
        answer = await self._ask("GET", f"v2/notifications?{query}", key)
        if isinstance(answer, Retryable | Throttled | Permanent):
            return answer
        try:
            found = answer.json()["notifications"]
            return str(found[0]["id"]) if found else None
        except (ValueError, KeyError, IndexError, TypeError):
            return Retryable(
                "Notify's list of notifications is unreadable", code=str(answer.status)
            )

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            verzoek = read_as(delivery.event, BERICHT)
        except ContractError as exc:
            return Permanent(f"cannot read the request: {exc.field or 'payload'} is invalid")
        assert isinstance(verzoek, BerichtVerzoekAangemaakt)  # what BERICHT's model reads
        request = notify_request(verzoek, delivery.idempotency_key, self.config)
        if isinstance(request, str):
            return Permanent(request)
        try:
            key = self._key()
        except SecretMissingError as exc:
            return Permanent(f"{exc} (api_key_env)")
        except ValueError as exc:
            return Permanent(f"environment variable {self.config.api_key_env}: {exc} (api_key_env)")
        earlier = await self._sent_before(request, delivery.idempotency_key, key)
        if isinstance(earlier, str):
            return Delivered({"notification": earlier})
        if earlier is not None:
            return earlier
        window = self._windows.window(
            self._base_url, key.service_id, self.config.rate_limit_per_minute
        )
        wait_s = window.try_send()
        if wait_s is not None:
            return Throttled(
                retry_after_s=wait_s,
                reason=f"at most {window.per_minute} messages a minute for this API key "
                "(rate_limit_per_minute)",
            )
        answer = await self._ask("POST", request.path, key, orjson.dumps(request.body))
        if isinstance(answer, Retryable | Throttled | Permanent):
            return answer
        try:
            notification = answer.json()["id"]
        except (ValueError, KeyError, TypeError):
            notification = None
        return Delivered({"notification": notification} if isinstance(notification, str) else {})

    async def check(self) -> Health:
        """An authenticated lookup that sends nothing: whether Notify takes our key now."""
        host = self.config.base_url.host
        try:
            key = self._key()
        except (SecretMissingError, ValueError) as exc:
            return Health(ok=False, detail=f"{exc} (api_key_env)")
        answer = await self._ask("GET", f"v2/notifications?reference={_CHECK_REFERENCE}", key)
        if isinstance(answer, Retryable | Throttled | Permanent):
            return Health(ok=False, detail=f"{host}: {answer.reason}")
        return Health(ok=True, detail=f"{host} answered {answer.status}")

    async def close(self) -> None:
        """Close the HTTP client and its connections; the sink is not used afterwards."""
        await self._client.aclose()


def build(config: NotifyNlConfig, context: ConnectorContext) -> NotifyNlSink:
    """The factory named in the connector's SPEC."""
    return NotifyNlSink(config, context)
