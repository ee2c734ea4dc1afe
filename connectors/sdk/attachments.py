"""Attachments by reference (the claim-check pattern): the bytes in the hub's blob store, the
event carrying only where they are, their SHA-256, size and content type.

Kafka is not for 20 MB PDFs. A source that receives file content hands it to
``SourceContext.attachments`` and puts the returned reference in its event; a sink reads the
bytes back with ``read``. The hub's store is a folder or an S3-compatible bucket
(docs/operations.md, "Attachments (blob store)").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["AttachmentStore", "StoredAttachment"]


@dataclass(frozen=True)
class StoredAttachment:
    """Where an attachment's bytes are: ``url`` (the hub serves it to the tenant's clients),
    ``sha256`` (lowercase hex), ``size`` (bytes) and ``content_type``."""

    url: str
    sha256: str
    size: int
    content_type: str


@runtime_checkable
class AttachmentStore(Protocol):
    """The hub's blob store as a connector sees it.

    ``max_attachment_bytes`` and ``max_submission_bytes`` are the configured limits (a source
    refuses more with 413, naming the limit)."""

    max_attachment_bytes: int
    max_submission_bytes: int

    async def store(self, tenant: str, content: bytes, content_type: str) -> StoredAttachment:
        """Keep ``content`` for ``tenant``; the same bytes twice are one blob. Raises
        SourceRefused(413) above ``max_attachment_bytes``."""
        ...

    async def read(self, tenant: str, url: str) -> bytes:
        """The bytes behind ``url`` (a reference ``store`` returned for ``tenant``). Raises
        LookupError when there are none (removed after their retention, or another tenant's)."""
        ...

    async def has(self, tenant: str, url: str) -> bool:
        """Whether there are bytes behind ``url`` for ``tenant``, without reading them (a sink
        checks every attachment before it makes anything). Raises when the store does not
        answer."""
        ...
