"""The hub's AttachmentStore (connectors.sdk.attachments): the blob store under a URL.

An attachment's URL is ``<public_url>/api/v1/tenants/<tenant>/attachments/<sha256>``: the hub
serves it to that tenant's clients (hub.http.attachments), and a sink reads it back through
``read``. Blobs are content-addressed per tenant, so the same file sent again (an e-forms
system's retry) is one blob.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.sdk import SourceRefused, StoredAttachment
from hub.blobs import BlobNotFoundError, BlobStoreUnavailableError, BlobTooLargeError
from hub.blobs.store import blob_key

if TYPE_CHECKING:
    from hub.blobs import BlobStore

__all__ = ["ATTACHMENT_PATH", "HubAttachments", "attachment_key"]

ATTACHMENT_PATH = "/api/v1/tenants/{tenant}/attachments/{sha256}"


def attachment_key(tenant: str, sha256: str) -> str | None:
    """The blob store's key of a tenant's attachment, or None when either is malformed."""
    try:
        return blob_key(tenant, sha256)
    except ValueError:
        return None


class HubAttachments:
    """Stores and reads attachments of every tenant; limits in bytes."""

    def __init__(
        self,
        blobs: BlobStore,
        public_url: str,
        max_attachment_bytes: int,
        max_submission_bytes: int,
    ) -> None:
        self.blobs, self.public_url = blobs, public_url.rstrip("/")
        self.max_attachment_bytes = max_attachment_bytes
        self.max_submission_bytes = max_submission_bytes

    def url_of(self, tenant: str, sha256: str) -> str:
        return self.public_url + ATTACHMENT_PATH.format(tenant=tenant, sha256=sha256)

    async def store(self, tenant: str, content: bytes, content_type: str) -> StoredAttachment:
        """Keep ``content``; SourceRefused(413) naming the limit when it is larger, 503 when the
        store does not answer (the client tries again later)."""
        try:
            blob = await self.blobs.put_bytes(
                tenant, content, content_type, self.max_attachment_bytes
            )
        except BlobTooLargeError as exc:
            raise SourceRefused(
                413,
                "Content too large",
                f"an attachment may be at most {exc.limit} bytes (got {len(content)})",
                "content_too_large",
            ) from exc
        except BlobStoreUnavailableError as exc:
            raise SourceRefused(
                503, "Attachment store unavailable", "try again later", "unavailable"
            ) from exc
        return StoredAttachment(
            self.url_of(tenant, blob.sha256), blob.sha256, blob.size, blob.content_type
        )

    async def has(self, tenant: str, url: str) -> bool:
        """Whether this hub keeps bytes at ``url`` for ``tenant`` (their size and type looked
        up, not the bytes); raises BlobStoreUnavailableError when the store does not answer."""
        prefix = self.url_of(tenant, "")
        key = attachment_key(tenant, url.removeprefix(prefix)) if url.startswith(prefix) else None
        if key is None:
            return False
        try:
            await self.blobs.stat(key)
        except BlobNotFoundError:
            return False
        return True

    async def read(self, tenant: str, url: str) -> bytes:
        """The bytes of ``url``; LookupError when it is not this hub's attachment of ``tenant``
        or there are none."""
        prefix = self.url_of(tenant, "")
        key = attachment_key(tenant, url.removeprefix(prefix)) if url.startswith(prefix) else None
        if key is None:
            raise LookupError(f"not an attachment of tenant {tenant} on this hub: {url}")
        try:
            return await self.blobs.read_all(key)
        except BlobNotFoundError as exc:
            raise LookupError(f"no attachment at {url}") from exc
