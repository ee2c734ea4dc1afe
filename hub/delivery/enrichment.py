"""Base-registry data added to one destination's copies, at delivery (``destinations[].enrich``).

A destination that asks for ``enrich: {brp: [naam, geboorte.datum]}`` gets, with each submission
of a person, the fields it named of that person from the tenant's Haal Centraal BRP bevragen API
(BRP personen v2, ``POST <url>/personen``, ``RaadpleegMetBurgerservicenummer``): the event it
receives has the BRP's answer beside the payload, as ``enrichment.brp`` (``{"personen": [...]}``,
the API's own shape). Other destinations of the same event get nothing of it.

Why at delivery and not in the router: the person's data never lands on a Kafka topic (only in
the request to the one back office that asked), the router never waits on a registry, and a BRP
that does not answer is a failed attempt of that destination alone: retried through its tiers,
counted in its circuit, dead-lettered with the cause after the last tier.

The person is the submission's legal subject when it is a BSN (DigiD, eIDAS with a BSN); a
submission without one (eHerkenning, no login) is delivered as it is.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from connectors.sdk import Delivery, HeaderAuth, HttpError, NoAuth, Permanent, SecretMissingError
from connectors.sdk.http import failure_for_exception, failure_for_status
from contracts.errors import ContractError
from contracts.events import read_as
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.sdk import ConnectorContext, Failure, Health, Outcome, Sink
    from hub.config import BrpService

__all__ = ["BrpPersonen", "EnrichingSink", "legal_subject_bsn"]

SUBMISSION = "nl.gemeente.formulier.ingediend"
_SUBMISSION_V2 = contract_for(SUBMISSION, 2)


def legal_subject_bsn(delivery: Delivery) -> str | None:
    """The BSN whom a submission is about, read as contract v2 (v1 upcast); None for any other
    event or a submission without one."""
    if not delivery.event.type.startswith(SUBMISSION):
        return None
    submission = read_as(delivery.event, _SUBMISSION_V2)
    subject = submission.authentication.legal_subject  # type: ignore[attr-defined]
    return str(subject.value) if subject is not None and subject.type == "bsn" else None


class BrpPersonen:
    """One tenant's BRP personen API: the named fields of one person."""

    def __init__(self, service: BrpService, oin: str, context: ConnectorContext) -> None:
        self.url = f"{service.url}/personen"
        headers = {"x-origin-oin": oin}
        if service.doelbinding:
            headers["x-doelbinding"] = service.doelbinding
        if service.verwerking:
            headers["x-verwerking"] = service.verwerking
        auth = (
            HeaderAuth(header="X-API-KEY", value_env=service.api_key_env)
            if service.api_key_env
            else NoAuth()
        )
        self._client = context.http.client(auth=auth, timeout_s=service.timeout_s, headers=headers)

    async def person(self, bsn: str, fields: list[str]) -> dict[str, Any] | Failure:
        """The BRP's answer (``{"type", "personen": [...]}``), or why there is none: Retryable
        for what may work later (timeouts, 5xx, 429), Permanent for a refusal (4xx)."""
        body = orjson.dumps(
            {
                "type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": [bsn],
                "fields": fields,
            }
        )
        try:
            response = await self._client.post(
                self.url, body=body, headers={"Content-Type": "application/json"}
            )
        except SecretMissingError as exc:
            return Permanent(f"BRP: {exc} (api_key_env)")
        except HttpError as exc:
            return failure_for_exception(exc)
        failure = failure_for_status(response.status, response.headers, datetime.now(UTC))
        if failure is not None:
            return replace(failure, reason=f"BRP: {failure.reason}")
        try:
            answer = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            return Permanent("BRP: the answer is not JSON")
        if not isinstance(answer, dict) or not isinstance(answer.get("personen"), list):
            return Permanent("BRP: the answer has no personen list")
        return {"personen": answer["personen"]}

    async def close(self) -> None:
        await self._client.aclose()


class EnrichingSink:
    """A destination's sink whose deliveries first get ``enrichment.brp`` (see the module)."""

    def __init__(self, sink: Sink, brp: BrpPersonen, fields: list[str]) -> None:
        self.sink, self.brp, self.fields = sink, brp, fields
        self.max_in_flight = sink.max_in_flight

    async def open(self) -> None:
        await self.sink.open()

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            bsn = legal_subject_bsn(delivery)
        except ContractError as exc:
            return Permanent(f"cannot read the submission to enrich it: {exc}")
        if bsn is None:
            return await self.sink.deliver(delivery)
        found = await self.brp.person(bsn, self.fields)
        if not isinstance(found, dict):
            return found
        payload = orjson.loads(delivery.event.data)
        payload["enrichment"] = {"brp": found}
        event = replace(delivery.event, data=orjson.dumps(payload))
        return await self.sink.deliver(replace(delivery, event=event))

    async def check(self) -> Health:
        return await self.sink.check()

    async def close(self) -> None:
        await self.sink.close()
        await self.brp.close()
