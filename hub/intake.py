"""HTTP intake: an authenticated e-forms system submits a form for a tenant.

The submission is validated against its contract (refused with 400 naming the field otherwise),
wrapped in a CloudEvent and published to its contract topic; 202 is answered only after Kafka
acknowledged the record, so an accepted submission is never lost.
"""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel

from contracts.cloudevents import CloudEvent, source_urn
from contracts.formulier.v1 import FormulierIngediend
from contracts.registry import contract_for
from hub.logs import get_logger
from hub.problems import ProblemError
from hub.topics import TopicNames, event_key

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from hub.auth import Authenticator
    from hub.config import HubConfig
    from hub.metrics import Metrics

__all__ = ["Accepted", "intake_router", "submission_event_id"]

log = get_logger("hub.intake")
_EVENT_ID_NAMESPACE = uuid.UUID("6f1b7c1e-8a59-4d3c-9a3e-4b7b2d0c9e11")
SUBMISSION = contract_for("nl.gemeente.formulier.ingediend", 1)


class Accepted(BaseModel):
    """The submission is on Kafka: its event id, type and where it was written."""

    id: str
    type: str
    topic: str
    partition: int
    offset: int


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
) -> APIRouter:
    topic = names.contract(SUBMISSION)
    router = APIRouter(prefix="/api/v1", tags=["intake"])

    @router.post(
        "/tenants/{tenant}/submissions",
        status_code=202,
        response_model=Accepted,
        summary="Submit a form for a tenant",
        responses={
            400: {"description": "invalid field(s), named in invalidParams"},
            401: {"description": "missing or invalid JWT"},
            403: {"description": "client may not act for this tenant"},
            404: {"description": "unknown tenant"},
        },
    )
    async def submit_form(
        tenant: str,
        submission: FormulierIngediend,
        authorization: Annotated[str | None, Header()] = None,
        traceparent: Annotated[str | None, Header()] = None,
    ) -> Accepted:
        """Publish the submission as ``nl.gemeente.formulier.ingediend`` (v1) for ``tenant``."""
        client = authenticator.authenticate(authorization)
        known = config.tenant(tenant)
        if known is None:
            raise ProblemError(404, "Unknown tenant", f"no tenant {tenant!r} here", "not_found")
        authenticator.authorize(client, tenant)
        event = CloudEvent(
            id=submission_event_id(tenant, client.id, submission.submission_id),
            source=source_urn(known.oin, client.id),
            type=SUBMISSION.type,
            tenant=tenant,
            subject=str(submission.submission_id),
            dataschema=SUBMISSION.dataschema,
            data=submission.model_dump_json().encode(),
            traceparent=_traceparent(traceparent),
        )
        record = await broker.publish(
            event.data,
            topic=topic,
            key=event_key(tenant, str(submission.submission_id)),
            headers={name: value.decode() for name, value in event.kafka_headers()},
        )
        metrics.submissions.labels(tenant).inc()
        log.debug("submission_accepted", tenant=tenant, event_id=event.id, client=client.id)
        return Accepted(
            id=event.id,
            type=event.type,
            topic=topic,
            partition=record.partition,
            offset=record.offset,
        )

    return router
