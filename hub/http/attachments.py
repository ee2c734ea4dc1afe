"""``GET /api/v1/tenants/{tenant}/attachments/{sha256}``: an attachment's bytes, for the clients
bound to its tenant (a back office that reads its topic follows the event's attachment URL).

401 without a valid token, 404 for an unknown tenant or attachment (also one of another tenant:
its existence is not told), 403 for a client not bound to the tenant. The answer streams the
blob with its content type, ``Content-Length``, a strong ``ETag`` (the SHA-256, RFC 9110 §8.8.3)
and ``Content-Disposition: attachment``; ``If-None-Match`` with that tag is 304.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from hub.blobs import BlobNotFoundError
from hub.connector_host.attachments import ATTACHMENT_PATH, attachment_key
from hub.http.problems import ProblemError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from hub.connector_host.attachments import HubAttachments
    from hub.http.auth import Authenticator

__all__ = ["mount_attachments"]


def mount_attachments(
    app: FastAPI, authenticator: Authenticator, attachments: HubAttachments
) -> None:
    """Serve the tenants' attachments (see the module docstring)."""
    router = APIRouter(tags=["intake"])

    def not_found(what: str) -> ProblemError:
        return ProblemError(404, "Not found", what, "not_found")

    @router.get(ATTACHMENT_PATH, summary="Download an attachment of a tenant's submission")
    async def attachment(tenant: str, sha256: str, request: Request) -> Response:
        """The attachment's bytes (see hub.http.attachments)."""
        authenticator.caller_for(request.headers.get("authorization"), tenant)
        key = attachment_key(tenant, sha256)
        if key is None:
            raise not_found("no such attachment")
        try:
            blob = await attachments.blobs.stat(key)
        except BlobNotFoundError as exc:
            raise not_found("no such attachment (it may have been removed)") from exc
        etag = f'"{blob.sha256}"'
        headers = {"ETag": etag, "Cache-Control": "private, max-age=86400, immutable"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        headers["Content-Length"] = str(blob.size)
        headers["Content-Disposition"] = f'attachment; filename="{blob.sha256}"'
        return StreamingResponse(
            attachments.blobs.read(key), media_type=blob.content_type, headers=headers
        )

    app.include_router(router)
