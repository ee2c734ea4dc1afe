"""Mounting push sources (connectors.sdk.source.PushSource) on the hub's HTTP API.

Every source connector in connectors/registry.py with a ``push`` factory gets a
``SourceContext``: ``authenticate`` is the hub's JWT check (401 without a valid token, 404 for an
unknown tenant, 403 for a client not bound to it), ``publish`` validates against the contract and
returns once Kafka acknowledged the record. Refusals (``SourceRefused``) and contract errors are
answered as problem+json by the handlers in ``install_source_problems``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connectors.registry import CONNECTORS
from connectors.sdk import Caller, NoMetrics, SourceContext, SourceRefused, SourceSpec, TenantInfo
from hub.connector_host.publishing import contract_publisher
from hub.connector_host.resends import ConflictingResendError, RecentEvents
from hub.errors import ContractError
from hub.http.problems import ProblemError, problem_response
from hub.observability.logs import get_logger

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from faststream.kafka import KafkaBroker

    from connectors.sdk import AttachmentStore, NewEvent, Published
    from hub.config import HubConfig
    from hub.http.auth import Authenticator
    from hub.kafka.topics import TopicNames
    from hub.observability.metrics import Metrics

__all__ = ["install_source_problems", "mount_push_sources"]

log = get_logger(__name__)
debugging = logging.getLogger(__name__)  # its level is the hub's (configure_logging)


def _refusal(error: ProblemError) -> SourceRefused:
    return SourceRefused(error.status, error.title, error.detail, error.code)


def mount_push_sources(
    app: FastAPI,
    config: HubConfig,
    authenticator: Authenticator,
    broker: KafkaBroker,
    metrics: Metrics,
    names: TopicNames,
    publish_timeout_s: float = 10.0,
    attachments: AttachmentStore | None = None,
) -> list[str]:
    """Include the routes of every push source; return the names of the sources mounted.
    ``publish_timeout_s`` bounds each wait for Kafka's acknowledgement; ``attachments`` is the
    blob store the sources keep file content in (none: they refuse files they cannot inline)."""
    publish_contract = contract_publisher(
        broker, names, config, publish_timeout_s, recent=RecentEvents(), metrics=metrics
    )
    tenants = {t.id: t for t in reversed(config.tenants)}  # per request: a lookup, not a scan

    def authenticate(authorization: str | None, tenant: str) -> Caller:
        try:
            client = authenticator.caller_for(authorization, tenant)
        except ProblemError as error:
            raise _refusal(error) from error
        return Caller(client.id, tuple(client.tenants))

    async def publish(new: NewEvent) -> Published:
        try:
            published = await publish_contract(new)
        except ConflictingResendError as exc:
            raise SourceRefused(
                422, "Resent with other content", str(exc), "idempotency_conflict"
            ) from exc
        metrics.submissions.labels(new.tenant).inc()
        if debugging.isEnabledFor(logging.DEBUG):  # building a structlog logger costs 10 us
            log.debug(
                "submission_accepted",
                tenant=new.tenant,
                event_id=published.id,
                client=new.source_system,
            )
        return published

    def tenant_info(tenant_id: str) -> TenantInfo | None:
        tenant = tenants.get(tenant_id)
        return None if tenant is None else TenantInfo(tenant.id, tenant.oin, tenant.rsin)

    mounted = []
    for spec in CONNECTORS:
        if not isinstance(spec, SourceSpec) or spec.push is None:
            continue
        source_config = spec.config.model_validate({})
        context = SourceContext(
            authenticate, publish, tenant_info, NoMetrics(), source_config, attachments
        )
        app.include_router(spec.push(source_config).router(context))
        mounted.append(spec.name)
    return mounted


def install_source_problems(app: FastAPI) -> None:
    """Answer ``SourceRefused`` and ``ContractError`` (an event that breaks its contract, caught
    before anything was sent) as RFC 9457 problem+json."""

    @app.exception_handler(SourceRefused)
    async def _refused(request: Request, exc: SourceRefused) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            exc.code,
            request.url.path,
            invalid_params=exc.invalid_params,
            headers=headers,
        )

    @app.exception_handler(ContractError)
    async def _contract(request: Request, exc: ContractError) -> JSONResponse:
        field = exc.field or "body"
        reason = exc.reason
        return problem_response(
            400,
            "Invalid submission",
            f"1 invalid field(s): {field}",
            "invalid",
            request.url.path,
            invalid_params=[{"name": field, "code": "contract", "reason": reason}],
        )
