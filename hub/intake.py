"""HTTP intake: an authenticated e-forms system submits a form for a tenant.

The submission is validated against its contract (refused with 400 naming the field otherwise),
wrapped in a CloudEvent and published to its contract topic; 202 is answered only after Kafka
acknowledged the record, so an accepted submission is never lost.
"""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel

from contracts.cloudevents import source_urn
from contracts.formulier import v1 as formulier_v1
from contracts.formulier import v2 as formulier_v2
from contracts.registry import ContractSpec, contract_for
from hub.logs import get_logger
from hub.problems import ProblemError
from hub.publishing import publish_contract_event

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from hub.auth import Authenticator
    from hub.config import HubConfig
    from hub.metrics import Metrics
    from hub.topics import TopicNames

__all__ = ["Accepted", "intake_router", "submission_event_id"]

log = get_logger("hub.intake")
_EVENT_ID_NAMESPACE = uuid.UUID("6f1b7c1e-8a59-4d3c-9a3e-4b7b2d0c9e11")


class Accepted(BaseModel):
    """The submission is on Kafka: its event id, type and where it was written."""

    id: str
    type: str
    topic: str
    partition: int
    offset: int


SUBMISSION_V1 = contract_for("nl.gemeente.formulier.ingediend", 1)
SUBMISSION_V2 = contract_for("nl.gemeente.formulier.ingediend", 2)
_ENDPOINT: dict[str, Any] = {
    "status_code": 202,
    "response_model": Accepted,
    "summary": "Submit a form for a tenant",
    "responses": {
        400: {"description": "invalid field(s), named in invalidParams"},
        401: {"description": "missing or invalid JWT"},
        403: {"description": "client may not act for this tenant"},
        404: {"description": "unknown tenant"},
        503: {"description": "Kafka did not acknowledge in time; send again after Retry-After"},
    },
}


def submission_event_id(tenant: str, client_id: str, submission_id: uuid.UUID) -> str:
    """Stable event id: a client resending the same submission produces the same id, so every
    downstream idempotency check sees it as one event."""
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{tenant}:{client_id}:{submission_id}"))


def _traceparent(incoming: str | None) -> str:
    if incoming and len(incoming.split("-")) == 4:
        return incoming
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def intake_router(
    config: HubConfig,
    authenticator: Authenticator,
    broker: KafkaBroker,
    metrics: Metrics,
    names: TopicNames,
    publish_timeout_s: float = 10.0,
) -> APIRouter:
    """The submission endpoints: the API's major version is the submission contract's.

    A submission Kafka does not acknowledge within ``publish_timeout_s`` raises (the app answers
    503 with Retry-After)."""
    router = APIRouter(tags=["intake"])

    async def accept(
        spec: ContractSpec,
        tenant: str,
        submission: formulier_v1.FormulierIngediend,
        authorization: str | None,
        traceparent: str | None,
    ) -> Accepted:
        client = authenticator.authenticate(authorization)
        known = config.tenant(tenant)
        if known is None:
            raise ProblemError(404, "Unknown tenant", f"no tenant {tenant!r} here", "not_found")
        authenticator.authorize(client, tenant)
        event, record = await publish_contract_event(
            broker,
            names,
            spec,
            submission,
            tenant=tenant,
            source=source_urn(known.oin, client.id),
            event_id=submission_event_id(tenant, client.id, submission.submission_id),
            traceparent=_traceparent(traceparent),
            timeout_s=publish_timeout_s,
        )
        topic = names.contract(spec)
        metrics.submissions.labels(tenant).inc()
        log.debug("submission_accepted", tenant=tenant, event_id=event.id, client=client.id)
        return Accepted(
            id=event.id,
            type=event.type,
            topic=topic,
            partition=record.partition,
            offset=record.offset,
        )

    @router.post("/api/v1/tenants/{tenant}/submissions", **_ENDPOINT)
    async def submit_form_v1(
        tenant: str,
        submission: formulier_v1.FormulierIngediend,
        authorization: Annotated[str | None, Header()] = None,
        traceparent: Annotated[str | None, Header()] = None,
    ) -> Accepted:
        """Publish the submission as ``nl.gemeente.formulier.ingediend`` v1 for ``tenant``."""
        return await accept(SUBMISSION_V1, tenant, submission, authorization, traceparent)

    @router.post("/api/v2/tenants/{tenant}/submissions", **_ENDPOINT)
    async def submit_form_v2(
        tenant: str,
        submission: formulier_v2.FormulierIngediend,
        authorization: Annotated[str | None, Header()] = None,
        traceparent: Annotated[str | None, Header()] = None,
    ) -> Accepted:
        """Publish the submission as ``nl.gemeente.formulier.ingediend`` v2 for ``tenant``."""
        return await accept(SUBMISSION_V2, tenant, submission, authorization, traceparent)

    return router
