"""The claim-check blob store's contract: ``BlobStore``, ``StoredBlob``, its errors and keys.

Attachment bytes do not travel on Kafka; they go into a blob store and the event carries the
key (the claim-check pattern). A key is ``"<tenant>/<sha256 hex>"``: content-addressed per
tenant, so the same bytes of one tenant are stored once, and a tenant's key never names another
tenant's blob. ``FolderBlobStore`` (hub/blobs/folder.py) and ``S3BlobStore`` (hub/blobs/s3.py)
implement it; both pass one test suite (tests/unit/test_blob_folder.py, ``BlobStoreSuite``).

The helpers at the end (``spool_chunks``, ``one_chunk``) are the part both stores share: the
bytes are counted and hashed while they are written to a spool file, never held whole.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "READ_CHUNK_BYTES",
    "SPOOL_PREFIX",
    "SPOOL_SUFFIX",
    "BlobNotFoundError",
    "BlobStore",
    "BlobStoreUnavailableError",
    "BlobTooLargeError",
    "SpooledBlob",
    "StoredAt",
    "StoredBlob",
    "blob_key",
    "check_content_type",
    "check_max_bytes",
    "check_tenant",
    "one_chunk",
    "open_spool",
    "split_blob_key",
    "spool_chunks",
]

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from hub.errors import KnooppuntError

if TYPE_CHECKING:
    from hashlib import _Hash

READ_CHUNK_BYTES = 1024 * 1024
"""The largest chunk ``BlobStore.read`` yields (1 MiB); also how much a put gathers per write."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"
"""The content type of a blob stored without one (an S3 object written by another tool)."""

_TENANT = re.compile(r"[0-9]{4}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# RFC 6838 type "/" subtype, then parameters in printable ASCII: it becomes an HTTP header (S3).
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}(;[ -~]*)?")
_CONTENT_TYPE_MAX_CHARS = 255


@dataclass(frozen=True)
class StoredBlob:
    """A blob as stored: what an event carries instead of the bytes.

    ``key`` is ``"<tenant>/<sha256>"``, ``sha256`` the lowercase hex SHA-256 of the bytes,
    ``size`` their number, ``content_type`` the MIME type stored with the blob (the one it was
    first stored with).
    """

    key: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class StoredAt:
    """A blob's key and when its bytes were last stored (aware, UTC): by the first put, or by a
    later put of the same bytes, which refreshes it (the retention counts from there)."""

    key: str
    stored_at: datetime


class BlobTooLargeError(KnooppuntError):
    """More than ``limit`` bytes arrived for one blob; nothing of it was kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the attachment is larger than {limit} bytes")


class BlobNotFoundError(KnooppuntError):
    """No blob is stored under ``key`` (never stored, or deleted)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no blob is stored under {key}")


class BlobStoreUnavailableError(KnooppuntError):
    """The store itself failed, not the blob: a bucket that does not exist, an endpoint that
    does not answer, credentials refused, a full or read-only disk. The message names the
    bucket and endpoint (S3) or the folder; the request may succeed once that is fixed."""


class BlobStore(Protocol):
    """Where attachment bytes live while their events travel on Kafka.

    Every method validates its key or tenant first and raises ``ValueError`` for anything but
    four ASCII digits (tenant) and 64 lowercase hex digits (SHA-256), before touching disk or
    network: a key such as ``"../etc"`` never reaches a path or URL. Failures of the store
    itself raise ``BlobStoreUnavailableError``.
    """

    async def put(
        self, tenant: str, chunks: AsyncIterable[bytes], content_type: str, max_bytes: int
    ) -> StoredBlob:
        """Store the bytes ``chunks`` yields for ``tenant``; the key is their SHA-256.

        The chunks are streamed into a spool file while hashed, never held whole; more than
        ``max_bytes`` raises ``BlobTooLargeError`` as soon as they arrived (the rest is not
        read) and keeps nothing. Atomic: no reader ever sees part of a blob. The same bytes for
        the same tenant again are the same blob, with the content type it was first stored
        with; its stored time (``stored``) becomes now, so retention counts from the latest
        event that carried it. ``content_type`` is
        a MIME type in printable ASCII (``ValueError`` otherwise).
        """
        ...

    async def put_bytes(
        self, tenant: str, data: bytes, content_type: str, max_bytes: int
    ) -> StoredBlob:
        """``put`` for bytes already in memory (a small attachment, a test)."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks of at most 1 MiB (``READ_CHUNK_BYTES``).

        ``ValueError`` for an invalid key at once; ``BlobNotFoundError`` when the first chunk
        is awaited (call ``stat`` first to answer 404 before a streamed response starts).
        """
        ...

    async def read_all(self, key: str) -> bytes:
        """The whole blob in memory; ``BlobNotFoundError`` when there is none."""
        ...

    async def stat(self, key: str) -> StoredBlob:
        """The stored blob's size and content type; ``BlobNotFoundError`` when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob; a blob that is not there is fine."""
        ...

    def stored(self) -> AsyncIterator[StoredAt]:
        """Every blob of every tenant with the time it was last stored, in no given order
        (retention, hub/blobs/retention.py). Anything in the store that is no blob key (a
        spool file, another tool's object) is passed over."""
        ...

    async def close(self) -> None:
        """Release what the store holds (connections); the store is not used afterwards."""
        ...


def check_tenant(tenant: str) -> str:
    """``tenant`` when it is a CBS gemeentecode (four ASCII digits), else ``ValueError``."""
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise ValueError(f"a blob's tenant is four ASCII digits, got {tenant!r}")
    return tenant


def blob_key(tenant: str, sha256: str) -> str:
    """``"<tenant>/<sha256>"``; ``ValueError`` unless both are valid."""
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"a blob's SHA-256 is 64 lowercase hex digits, got {sha256!r}")
    return f"{check_tenant(tenant)}/{sha256}"


def split_blob_key(key: str) -> tuple[str, str]:
    """``(tenant, sha256)`` of a key ``"<tenant>/<sha256>"``, else ``ValueError``."""
    tenant, slash, sha256 = key.partition("/") if isinstance(key, str) else ("", "", "")
    if not slash or not _TENANT.fullmatch(tenant) or not _SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"a blob key is '<4 ASCII digits>/<64 lowercase hex>', got {key!r}")
    return tenant, sha256


def check_content_type(content_type: str) -> str:
    """``content_type`` when it is ``type/subtype[; parameters]`` in printable ASCII of at most
    255 characters (it is sent as an HTTP header), else ``ValueError``."""
    if (
        not isinstance(content_type, str)
        or len(content_type) > _CONTENT_TYPE_MAX_CHARS
        or not _CONTENT_TYPE.fullmatch(content_type)
    ):
        raise ValueError(f"a blob's content type is a MIME type, got {content_type!r}")
    return content_type


def check_max_bytes(max_bytes: int) -> int:
    """``max_bytes`` when it is a whole number of bytes, zero or more, else ``ValueError``."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"max_bytes is a number of bytes >= 0, got {max_bytes!r}")
    return max_bytes


@dataclass(frozen=True)
class SpooledBlob:
    """What ``spool_chunks`` wrote: the lowercase hex SHA-256 and size in bytes."""

    sha256: str
    size: int


SPOOL_PREFIX, SPOOL_SUFFIX = ".incoming-", ".part"
"""How a spool file is named: never a key (a key's last part is 64 hex digits)."""


def open_spool(folder: Path | None) -> tuple[Path, BinaryIO]:
    """A new spool file in ``folder`` (None: the system's temporary folder, ``TMPDIR``), open
    for writing, mode 0600. Blocking: call it in a worker thread. The caller removes it."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=SPOOL_PREFIX, suffix=SPOOL_SUFFIX)
    return Path(name), os.fdopen(handle, "wb")


async def spool_chunks(
    chunks: AsyncIterable[bytes], spool: BinaryIO, max_bytes: int
) -> SpooledBlob:
    """Write ``chunks`` to ``spool`` (an open binary file) while hashing them with SHA-256.

    Raises ``BlobTooLargeError`` as soon as more than ``max_bytes`` arrived, without asking
    ``chunks`` for more, and ``BlobStoreUnavailableError`` naming the file when it cannot be
    written; what ``chunks`` raises (a client gone) passes unchanged. The caller removes the
    spool file. Chunks are gathered to 1 MiB and each block is written and hashed in a worker
    thread (hashlib releases the GIL), so the event loop waits for neither disk nor hash.
    """
    digest = hashlib.sha256()
    size = 0
    pending = bytearray()
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise BlobTooLargeError(max_bytes)
        pending += chunk
        if len(pending) >= READ_CHUNK_BYTES:
            block, pending = pending, bytearray()
            await asyncio.to_thread(_write_and_hash, spool, digest, block)
    if pending:
        await asyncio.to_thread(_write_and_hash, spool, digest, pending)
    return SpooledBlob(sha256=digest.hexdigest(), size=size)


def _write_and_hash(spool: BinaryIO, digest: _Hash, block: bytearray) -> None:
    try:
        spool.write(block)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise BlobStoreUnavailableError(
            f"cannot write the spool file {spool.name}: {reason}"
        ) from exc
    digest.update(block)


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    """``data`` as the single chunk of an async iterator (``put_bytes`` through ``put``)."""
    yield data
