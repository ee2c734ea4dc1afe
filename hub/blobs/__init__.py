"""Attachments of real size: their bytes in a blob store, a key on the event (claim check).

``BlobStore`` is the contract (hub/blobs/store.py); ``FolderBlobStore`` the embedded default,
a folder under the hub's data dir; ``hub.blobs.s3.S3BlobStore`` any S3-compatible store (MinIO,
Ceph, AWS), imported only where one is configured (obstore: 7 MB of a process's memory).
"""

from __future__ import annotations

__all__ = [
    "BlobNotFoundError",
    "BlobStore",
    "BlobStoreUnavailableError",
    "BlobTooLargeError",
    "FolderBlobStore",
    "StoredAt",
    "StoredBlob",
]

from hub.blobs.folder import FolderBlobStore
from hub.blobs.store import (
    BlobNotFoundError,
    BlobStore,
    BlobStoreUnavailableError,
    BlobTooLargeError,
    StoredAt,
    StoredBlob,
)
