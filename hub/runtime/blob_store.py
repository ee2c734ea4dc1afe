"""The blob store the settings name (``KNOOPPUNT_BLOB_STORE``) and the hub's attachments on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from hub.blobs import FolderBlobStore
from hub.connector_host.attachments import HubAttachments

if TYPE_CHECKING:
    from hub.blobs import BlobStore
    from hub.runtime.settings import Settings

__all__ = ["attachments_of", "blob_store_of"]


def blob_store_of(settings: Settings) -> BlobStore:
    """``s3://<bucket>[/<prefix>]``: an S3-compatible bucket (endpoint, region and the standard
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment); a path: that folder;
    empty: ``<data_dir>/blobs``."""
    spec = settings.blob_store.strip()
    if spec.startswith("s3://"):
        from hub.blobs.s3 import S3BlobStore  # noqa: PLC0415 - only where a bucket is configured

        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        return S3BlobStore(
            endpoint_url=settings.s3_endpoint_url,
            bucket=bucket,
            region=settings.s3_region,
            access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
            secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
            prefix=prefix,
        )
    return FolderBlobStore(Path(spec) if spec else settings.data_dir / "blobs")


def attachments_of(settings: Settings) -> HubAttachments:
    """The attachments of every tenant, linked under ``public_url`` (default: the API's own
    host and port)."""
    public_url = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
    return HubAttachments(
        blob_store_of(settings),
        public_url,
        settings.max_attachment_bytes,
        settings.max_submission_bytes,
    )
