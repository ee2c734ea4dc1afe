"""The tenant's BRP Update API as the two connectors call it (Haal Centraal BRP Update API 1.0,
specificatie/genereervariant/openapi.yaml of BRP-API/Haal-Centraal-BRP-Update-API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from connectors.sdk import HttpResponse, Permanent, SecretMissingError
from connectors.sdk.http import answer_or_failure
from connectors.sdk.http_auth import secret_names
from contracts.identifiers import is_valid_bsn

if TYPE_CHECKING:
    from datetime import date

    from connectors.brp_update.config import BrpUpdateApi
    from connectors.sdk import ConnectorContext, Failure, HttpClient

__all__ = ["BrpUpdateError", "changed_since", "missing_secret", "update_client"]

_JSON = "application/json"


class BrpUpdateError(Exception):
    """The API did not answer what it should: ``failure`` says why (retryable or not)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def missing_secret(api: BrpUpdateApi, context: ConnectorContext) -> str | None:
    """Why the secret ``auth`` names cannot be read (``"auth: environment variable X is not
    set"``), or None when it can: checked at start, so a missing key stops the start."""
    for name in secret_names(api.auth):
        try:
            context.secrets.get(name)
        except SecretMissingError as exc:
            return f"auth: {exc}"
    return None


def update_client(api: BrpUpdateApi, context: ConnectorContext) -> HttpClient:
    """A client with the gateway headers; the caller closes it."""
    headers = {"Accept": f"{_JSON}, application/hal+json", "x-origin-oin": context.tenant.oin}
    if api.doelbinding:
        headers["x-doelbinding"] = api.doelbinding
    if api.verwerking:
        headers["x-verwerking"] = api.verwerking
    return context.http.client(auth=api.auth, timeout_s=api.timeout_s, headers=headers)


async def changed_since(client: HttpClient, api: BrpUpdateApi, day: date) -> tuple[set[str], int]:
    """``GET /wijzigingen?vanaf=<day>``: the followed persons changed on or after ``day``, and
    how many items of the answer were no valid BSN (left out, never raised: one bad item must
    not stop every later poll). Raises BrpUpdateError for a refusal, no answer, or an answer
    without a ``burgerservicenummers`` list."""
    answer = await answer_or_failure(
        client.get(f"{api.base()}/wijzigingen?vanaf={day.isoformat()}"), "auth"
    )
    if not isinstance(answer, HttpResponse):
        raise BrpUpdateError(answer)
    try:
        document = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        document = None
    items = document.get("burgerservicenummers") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise BrpUpdateError(Permanent("the answer has no burgerservicenummers list"))
    valid = [item for item in items if isinstance(item, str) and is_valid_bsn(item)]
    return set(valid), len(items) - len(valid)
