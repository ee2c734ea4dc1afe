"""The submission endpoints: one per major version of ``nl.gemeente.formulier.ingediend``; the
API's major version is the contract's.

Bad input never reaches Kafka: a body outside I-JSON (RFC 7493) is refused with 400, one that
is not sent as JSON with 415 (``IJsonRoute``), one that breaks the contract with 400 naming each
field (FastAPI's validation against the contract model); a missing or bad token 401, a tenant the
client is not bound to 403, an unknown tenant 404 (``SourceContext.authenticate``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from connectors.eformulieren.open_formulieren import read_registration
from connectors.sdk import AttachmentStore, Caller, NewEvent, SourceContext, SourceRefused
from connectors.sdk.json_body import MAX_BODY_BYTES, ijson_route
from contracts.cloudevents import valid_traceparent
from contracts.errors import ContractError
from contracts.formulier import v1 as formulier_v1
from contracts.formulier import v2 as formulier_v2
from contracts.registry import ContractSpec, contract_for

__all__ = [
    "OPEN_FORMULIEREN_PATH",
    "Accepted",
    "EformulierenConfig",
    "EformulierenSource",
    "OpenFormulierenRegistration",
    "build",
    "submission_event_id",
]

_EVENT_ID_NAMESPACE = uuid.UUID("6f1b7c1e-8a59-4d3c-9a3e-4b7b2d0c9e11")
SUBMISSION_V1 = contract_for("nl.gemeente.formulier.ingediend", 1)
SUBMISSION_V2 = contract_for("nl.gemeente.formulier.ingediend", 2)
OPEN_FORMULIEREN_PATH = "/api/v1/tenants/{tenant}/open-formulieren"
# The native contract's fields as Open Formulieren's metadata names them, for error messages.
_OPEN_FORMULIEREN_FIELDS = {
    "reference": "metadata.public_reference",
    "form.id": "metadata.form_id",
    "form.name": "metadata.form_name",
    "submitted_at": "metadata.registration_timestamp",
    "authentication.bsn": "metadata.auth_bsn",
    "authentication.kvk": "metadata.auth_kvk",
    "authentication.pseudo_id": "metadata.auth_pseudo",
}


class EformulierenConfig(BaseModel):
    """No settings: the API clients and the tenants they may act for are the hub's ``clients``."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenFormulierenRegistration(BaseModel):
    """The body of Open Formulieren's generic JSON registration backend (its 3.1.1+ shape):
    the chosen form variables, the chosen metadata variables, and the JSON Schema of each
    (accepted, not kept: the values themselves are the submission's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    values: dict[str, JsonValue]
    values_schema: dict[str, JsonValue] | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    metadata_schema: dict[str, JsonValue] | None = None


class Accepted(BaseModel):
    """The submission is on Kafka: its event id, type and where it was written."""

    id: str
    type: str
    topic: str
    partition: int
    offset: int


_ENDPOINT: dict[str, Any] = {
    "status_code": 202,
    "response_model": Accepted,
    "summary": "Submit a form for a tenant",
    "responses": {
        400: {"description": "invalid field(s) or not I-JSON (RFC 7493), named in invalidParams"},
        401: {"description": "missing or invalid JWT"},
        403: {"description": "client may not act for this tenant"},
        404: {"description": "unknown tenant"},
        413: {"description": "the body is larger than 1,000,000 bytes"},
        415: {"description": "the body is not sent as application/json"},
        422: {"description": "this submission_id was accepted before with other content"},
        503: {"description": "Kafka did not acknowledge in time; retry after Retry-After"},
    },
}


def submission_event_id(tenant: str, client_id: str, submission_id: uuid.UUID) -> str:
    """Stable event id: a client resending the same submission produces the same id, so every
    downstream idempotency check sees it as one event."""
    # uuid.uuid5 written out (RFC 9562 §5.5): the same id, without building two UUID objects.
    name = f"{tenant}:{client_id}:{submission_id}".encode()
    sha1 = hashlib.sha1(_EVENT_ID_NAMESPACE.bytes + name, usedforsecurity=False)  # as uuid5
    digest = bytearray(sha1.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # variant RFC 9562
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _open_formulieren_body_limit(store: AttachmentStore | None) -> int:
    """Open Formulieren sends files inline in base64 (4 bytes per 3): room for a submission's
    files at their limit, plus 1 MiB for the rest."""
    if store is None:
        return MAX_BODY_BYTES
    return store.max_submission_bytes * 4 // 3 + 1024 * 1024


def _open_formulieren_hint(store: AttachmentStore | None) -> str:
    """What a 413 tells Open Formulieren (its files travel in the body, base64)."""
    if store is None:
        return "this hub keeps no attachments (no blob store)"
    return (
        f"room for at most {store.max_submission_bytes} bytes of files (base64 in the body), "
        f"at most {store.max_attachment_bytes} bytes each"
    )


def _in_open_formulieren_terms(error: ContractError) -> SourceRefused:
    field = error.field or "body"
    named = _OPEN_FORMULIEREN_FIELDS.get(field, f"values.{field.removeprefix('values.')}")
    return SourceRefused(
        400,
        "Invalid registration",
        f"1 invalid field(s): {named}",
        "invalid",
        [{"name": named, "code": "contract", "reason": error.reason}],
    )


def _traceparent(incoming: str | None) -> str:
    """The caller's W3C traceparent when it is one (Trace Context §3.2); else a new trace."""
    return valid_traceparent(incoming) or f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


class EformulierenSource:
    """A ``PushSource``: the submission routes, on the hub's authentication and publishing."""

    def router(self, context: SourceContext) -> APIRouter:
        def authenticated(request: Request) -> None:
            # Before the body is read: no token, no word about the body's rules. The caller is
            # kept for the endpoint, so that a request is authenticated once.
            tenant = str(request.path_params.get("tenant", ""))
            request.state.caller = context.authenticate(
                request.headers.get("authorization"), tenant
            )

        router = APIRouter(tags=["intake"], route_class=ijson_route(before=authenticated))

        async def accept(
            spec: ContractSpec,
            tenant: str,
            submission: formulier_v1.FormulierIngediend,
            request: Request,
            traceparent: str | None,
            fingerprint: bytes | None = None,
        ) -> Response:
            caller: Caller = request.state.caller
            too_large = declared_size_refusal(submission.attachments, context.attachments)
            if too_large is not None:
                raise too_large
            published = await context.publish(
                NewEvent(
                    spec=spec,
                    payload=submission,
                    tenant=tenant,
                    event_id=submission_event_id(tenant, caller.id, submission.submission_id),
                    source_system=caller.id,
                    traceparent=_traceparent(traceparent),
                    fingerprint=fingerprint,
                )
            )
            accepted = {
                "id": published.id,
                "type": published.type,
                "topic": published.topic,
                "partition": published.partition,
                "offset": published.offset,
            }
            # ``Accepted``'s fields, written as they are: FastAPI would validate the model again
            # against the response model before writing it.
            return Response(orjson.dumps(accepted), 202, media_type="application/json")

        @router.post("/api/v1/tenants/{tenant}/submissions", **_ENDPOINT)
        async def submit_form_v1(
            tenant: str,
            submission: formulier_v1.FormulierIngediend,
            request: Request,
            traceparent: Annotated[str | None, Header()] = None,
        ) -> Response:
            """Publish the submission as ``nl.gemeente.formulier.ingediend`` v1 for ``tenant``."""
            return await accept(SUBMISSION_V1, tenant, submission, request, traceparent)

        @router.post("/api/v2/tenants/{tenant}/submissions", **_ENDPOINT)
        async def submit_form_v2(
            tenant: str,
            submission: formulier_v2.FormulierIngediend,
            request: Request,
            traceparent: Annotated[str | None, Header()] = None,
        ) -> Response:
            """Publish the submission as ``nl.gemeente.formulier.ingediend`` v2 for ``tenant``."""
            return await accept(SUBMISSION_V2, tenant, submission, request, traceparent)

        of_router = APIRouter(
            tags=["intake"],
            route_class=ijson_route(
                before=authenticated,
                max_body_bytes=_open_formulieren_body_limit(context.attachments),
                too_large_hint=_open_formulieren_hint(context.attachments),
            ),
        )

        @of_router.post(
            OPEN_FORMULIEREN_PATH,
            **{**_ENDPOINT, "summary": "Register an Open Formulieren submission for a tenant"},
        )
        async def register_open_formulieren(
            tenant: str,
            registration: OpenFormulierenRegistration,
            request: Request,
            traceparent: Annotated[str | None, Header()] = None,
        ) -> Response:
            """Open Formulieren's generic JSON registration (point its backend's service here,
            path ``open-formulieren`` under ``/api/v1/tenants/<tenant>/``), published as
            ``nl.gemeente.formulier.ingediend`` v1. Files go to the hub's blob store; the event
            carries their references (connectors/eformulieren/README.md)."""
            read = read_registration(
                {"values": registration.values, "metadata": registration.metadata},
                tenant,
                datetime.now(UTC),
            )
            attachments = await _store_files(context.attachments, tenant, read.files)
            try:
                submission = SUBMISSION_V1.validate(
                    {**read.payload, "attachments": attachments}, mode="produce"
                )
            except ContractError as exc:
                raise _in_open_formulieren_terms(exc) from exc
            assert isinstance(submission, formulier_v1.FormulierIngediend)
            # Open Formulieren's retry carries a new registration_timestamp: the same submission.
            same = submission.model_dump_json(exclude={"submitted_at"}).encode()
            fingerprint = hashlib.blake2b(same, digest_size=16).digest()
            return await accept(
                SUBMISSION_V1, tenant, submission, request, traceparent, fingerprint
            )

        router.include_router(of_router)
        return router


def declared_size_refusal(
    attachments: Sequence[formulier_v1.Attachment], store: AttachmentStore | None
) -> SourceRefused | None:
    """413 naming the limit when an attachment's declared ``size``, or their total, is over the
    hub's attachment or submission limit (the same limits as files the hub stores: a back
    office should never be sent a reference to more than the hub would take); None otherwise,
    and always when the hub keeps no attachments (no limits configured)."""
    if store is None or not attachments:
        return None
    for index, attachment in enumerate(attachments):
        if attachment.size > store.max_attachment_bytes:
            return SourceRefused(
                413,
                "Content too large",
                f"attachments[{index}]: an attachment may be at most "
                f"{store.max_attachment_bytes} bytes (its size is {attachment.size})",
                "content_too_large",
            )
    total = sum(attachment.size for attachment in attachments)
    if total > store.max_submission_bytes:
        return SourceRefused(
            413,
            "Content too large",
            f"the attachments of a submission may be at most {store.max_submission_bytes} "
            f"bytes together (their sizes add up to {total})",
            "content_too_large",
        )
    return None


async def _store_files(
    store: AttachmentStore | None, tenant: str, files: list[Any]
) -> list[dict[str, Any]]:
    """Each file into the blob store; the contract's attachment references, in order."""
    if not files:
        return []
    total = sum(len(file.content) for file in files)
    limit = store.max_submission_bytes if store is not None else 0
    if store is None or total > limit:
        raise SourceRefused(
            413,
            "Content too large",
            f"the files of a submission may be at most {limit} bytes together (got {total})"
            if store is not None
            else "this hub keeps no attachments (no blob store)",
            "content_too_large",
        )
    attachments = []
    for file in files:
        stored = await store.store(tenant, file.content, file.content_type)
        attachments.append(
            {
                "url": stored.url,
                "name": file.name,
                "content_type": stored.content_type,
                "size": stored.size,
                "sha256": stored.sha256,
            }
        )
    return attachments


def build(config: EformulierenConfig) -> EformulierenSource:
    """The factory named in the connector's SPEC."""
    return EformulierenSource()
