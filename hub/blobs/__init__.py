"""Attachments of real size: their bytes in a blob store, a key on the event (claim check).

``BlobStore`` is the contract (hub/blobs/store.py); ``FolderBlobStore`` the embedded default,
a folder under the hub's data dir; ``S3BlobStore`` any S3-compatible store (MinIO, Ceph, AWS).
"""

from __future__ import annotations

__all__ = [
    "BlobNotFoundError",
    "BlobStore",
    "BlobStoreUnavailableError",
    "BlobTooLargeError",
    "FolderBlobStore",
    "S3BlobStore",
    "StoredBlob",
]

from hub.blobs.folder import FolderBlobStore
from hub.blobs.s3 import S3BlobStore
from hub.blobs.store import (
    BlobNotFoundError,
    BlobStore,
    BlobStoreUnavailableError,
    BlobTooLargeError,
    StoredBlob,
)
