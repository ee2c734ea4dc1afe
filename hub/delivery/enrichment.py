"""Base-registry data added to one destination's copies, at delivery (``destinations[].enrich``).

The event a destination receives gets, beside the payload, ``enrichment.<registry>`` in the
registry's own shape; other destinations of the same event get nothing of it:

- ``brp: [naam, geboorte.datum]``: the person's named fields from the tenant's Haal Centraal BRP
  bevragen API (BRP personen v2, ``POST <url>/personen``, ``RaadpleegMetBurgerservicenummer``):
  ``{"personen": [...]}``; the person is the submission's legal subject when it is a BSN;
- ``kvk: true``: the company's basisprofiel from the KvK API (``GET <url>/basisprofielen/<kvk>``,
  header ``apikey``); the company is the legal subject when it is a KvK number (eHerkenning);
- ``bag: {postcode: <path>, huisnummer: <path>}``: the addresses at that postcode and number
  from the BAG Individuele Bevragingen API (``GET <url>/adressen``, header ``X-Api-Key``):
  ``{"adressen": [...]}``.

A registry that does not know the person, company or address (404, an empty answer) adds
nothing; one that does not answer fails the attempt.

Why at delivery and not in the router: the person's data never lands on a Kafka topic (only in
the request to the one back office that asked), the router never waits on a registry, and a BRP
that does not answer is a failed attempt of that destination alone: retried through its tiers,
counted in its circuit, dead-lettered with the cause after the last tier.

The person is the submission's legal subject when it is a BSN (DigiD, eIDAS with a BSN); a
submission without one (eHerkenning, no login) is delivered as it is.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

import orjson

from connectors.sdk import Delivery, HeaderAuth, HttpResponse, NoAuth, Permanent
from connectors.sdk.http import answer_or_failure
from contracts.errors import ContractError
from contracts.events import read_as
from contracts.registry import contract_for

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from connectors.sdk import ConnectorContext, Failure, Health, HttpClient, Outcome, Sink
    from hub.config.models import BagAddress, BrpService, RegistryApi

__all__ = [
    "BagAdressen",
    "BrpPersonen",
    "EnrichingSink",
    "KvkBasisprofiel",
    "Lookup",
    "legal_subject",
]

SUBMISSION = "nl.gemeente.formulier.ingediend"
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
_SUBMISSION_V2 = contract_for(SUBMISSION, 2)


def _submission(delivery: Delivery) -> Any | None:
    """The submission read as contract v2 (v1 upcast); None for any other event. Raises
    ContractError when it cannot be read."""
    if not delivery.event.type.startswith(SUBMISSION):
        return None
    return read_as(delivery.event, _SUBMISSION_V2)


def legal_subject(submission: Any, kind: str) -> str | None:
    """The identifier (``bsn``, ``kvk``) of whom a submission is about, if it is of ``kind``."""
    subject = submission.authentication.legal_subject
    return str(subject.value) if subject is not None and subject.type == kind else None


def _at(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(payload, dict):
            return None
        payload = payload.get(part)
    return payload


Found = dict[str, Any] | None  # a registry's answer, or None: it knows nothing to add


class Lookup(Protocol):
    """One registry's part of a destination's enrichment, for one submission (contract v2)."""

    name: str

    async def find(self, submission: Any) -> Found | Failure: ...

    async def close(self) -> None: ...


def _client(
    context: ConnectorContext,
    header: str,
    env: str | None,
    timeout_s: float,
    headers: dict[str, str] | None = None,
) -> HttpClient:
    auth = HeaderAuth(header=header, value_env=env) if env else NoAuth()
    return context.http.client(auth=auth, timeout_s=timeout_s, headers=headers or {})


async def _json_answer(
    request: Awaitable[HttpResponse], registry: str, none_if_unknown: bool = True
) -> Found | Failure:
    """The registry's JSON object; None when it has none (404, if ``none_if_unknown``); else
    the failure, its reason naming the registry."""
    answer = await answer_or_failure(request, "api_key_env")
    if not isinstance(answer, HttpResponse):
        if none_if_unknown and answer.code == "404":
            return None
        return replace(answer, reason=f"{registry}: {answer.reason}")
    try:
        document = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return Permanent(f"{registry}: the answer is not JSON")
    return document if isinstance(document, dict) else Permanent(f"{registry}: not a JSON object")


class BrpPersonen:
    """One tenant's BRP personen API: the named fields of the submission's person."""

    name = "brp"

    def __init__(
        self, service: BrpService, oin: str, context: ConnectorContext, fields: list[str]
    ) -> None:
        self.fields = fields
        self.url = f"{service.url}/personen"
        headers = {"x-origin-oin": oin}
        if service.doelbinding:
            headers["x-doelbinding"] = service.doelbinding
        if service.verwerking:
            headers["x-verwerking"] = service.verwerking
        self._client = _client(
            context, "X-API-KEY", service.api_key_env, service.timeout_s, headers
        )

    async def find(self, submission: Any) -> Found | Failure:
        """The BRP's answer for the person (``{"personen": [...]}``), or why there is none:
        Retryable for what may work later (timeouts, 5xx, 429), Permanent for a refusal."""
        bsn = legal_subject(submission, "bsn")
        if bsn is None:
            return None
        body = orjson.dumps(
            {
                "type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": [bsn],
                "fields": self.fields,
            }
        )
        request = self._client.post(
            self.url, body=body, headers={"Content-Type": "application/json"}
        )
        answer = await _json_answer(request, "BRP", none_if_unknown=False)
        if not isinstance(answer, dict):
            return answer
        if not isinstance(answer.get("personen"), list):
            return Permanent("BRP: the answer has no personen list")
        return {"personen": answer["personen"]} if answer["personen"] else None

    async def close(self) -> None:
        await self._client.aclose()


_ACCEPT_JSON = {"Accept": "application/json, application/hal+json"}


class KvkBasisprofiel:
    """One tenant's KvK API: the basisprofiel of the submission's company."""

    name = "kvk"

    def __init__(self, api: RegistryApi, context: ConnectorContext) -> None:
        self.url = api.url
        self._client = _client(context, "apikey", api.api_key_env, api.timeout_s)

    async def find(self, submission: Any) -> Found | Failure:
        kvk = legal_subject(submission, "kvk")
        if kvk is None:
            return None
        url = f"{self.url}/basisprofielen/{kvk}"
        return await _json_answer(self._client.get(url, headers=_ACCEPT_JSON), "KvK")

    async def close(self) -> None:
        await self._client.aclose()


class BagAdressen:
    """One tenant's BAG Individuele Bevragingen API: the addresses at the submission's postcode
    and huisnummer (dotted paths into the payload)."""

    name = "bag"

    def __init__(self, api: RegistryApi, where: BagAddress, context: ConnectorContext) -> None:
        self.url, self.where = api.url, where
        self._client = _client(context, "X-Api-Key", api.api_key_env, api.timeout_s)

    async def find(self, submission: Any) -> Found | Failure:
        payload = submission.model_dump(mode="json")
        postcode = str(_at(payload, self.where.postcode) or "").replace(" ", "").upper()
        number = str(_at(payload, self.where.huisnummer) or "")
        if not (_POSTCODE.fullmatch(postcode) and number.isascii() and number.isdigit()):
            return None  # no address to look up
        query = urlencode({"postcode": postcode, "huisnummer": number})
        url = f"{self.url}/adressen?{query}"
        found = await _json_answer(self._client.get(url, headers=_ACCEPT_JSON), "BAG")
        if not isinstance(found, dict):
            return found
        adressen = (found.get("_embedded") or {}).get("adressen") or []
        return {"adressen": adressen} if adressen else None

    async def close(self) -> None:
        await self._client.aclose()


class EnrichingSink:
    """A destination's sink whose deliveries first get ``enrichment`` (see the module)."""

    def __init__(self, sink: Sink, lookups: list[Lookup]) -> None:
        self.sink, self.lookups = sink, lookups
        self.max_in_flight = sink.max_in_flight

    async def open(self) -> None:
        await self.sink.open()

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            submission = _submission(delivery)  # read once, for every registry
        except ContractError as exc:
            return Permanent(f"cannot read the submission to enrich it: {exc}")
        if submission is None:
            return await self.sink.deliver(delivery)
        enrichment: dict[str, Any] = {}
        for lookup in self.lookups:
            found = await lookup.find(submission)
            if found is None:
                continue
            if not isinstance(found, dict):
                return found
            enrichment[lookup.name] = found
        if not enrichment:
            return await self.sink.deliver(delivery)
        payload = orjson.loads(delivery.event.data)
        payload["enrichment"] = enrichment
        event = replace(delivery.event, data=orjson.dumps(payload))
        return await self.sink.deliver(replace(delivery, event=event))

    async def check(self) -> Health:
        return await self.sink.check()

    async def close(self) -> None:
        await self.sink.close()
        for lookup in self.lookups:
            await lookup.close()
