"""``S3BlobStore``: blobs in a bucket of any S3-compatible store (MinIO, Ceph RGW, AWS S3).

On obstore (Rust's ``object_store`` crate): requests, signing, retries and multipart uploads
run in its own threads, never on the event loop; a put spools to a temporary file while
hashing (the key is the SHA-256, known only at the end), then uploads that file, in 5 MiB parts
when it is larger (at most 4 in flight: 20 MiB of buffers per put). Why obstore and not
aioboto3: docs/operations.md, "Attachments (blob store)".

The object's name is ``[<prefix>/]<tenant>/<sha256>``, its ``Content-Type`` the blob's content
type. Creating the bucket is not the store's job: a missing one is a
``BlobStoreUnavailableError`` naming bucket and endpoint, as is every other failure of the
store (unreachable, credentials refused), after obstore's retries (up to 3, within 30 s).
"""

from __future__ import annotations

__all__ = ["S3BlobStore"]

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import BaseError as ObstoreError
from obstore.store import S3Store

from hub.blobs.store import (
    DEFAULT_CONTENT_TYPE,
    READ_CHUNK_BYTES,
    BlobNotFoundError,
    BlobStoreUnavailableError,
    StoredAt,
    StoredBlob,
    blob_key,
    check_content_type,
    check_max_bytes,
    check_tenant,
    one_chunk,
    open_spool,
    split_blob_key,
    spool_chunks,
)

if TYPE_CHECKING:
    from obstore import GetResult
    from obstore.store import S3Config

_UPLOAD_PARTS_IN_FLIGHT = 4
_RETRIES = 3
_RETRY_WITHIN = timedelta(seconds=30)
_CONNECT_TIMEOUT = timedelta(seconds=5)
_ERROR_CHARS = 300  # obstore's messages carry a multi-line debug dump; the first line says it


class S3BlobStore:
    """A ``BlobStore`` (hub/blobs/store.py) in ``bucket``.

    ``endpoint_url`` is the store's base URL (``http://minio:9000``; plain HTTP only when it
    says so), None for AWS S3 in ``region``. With an endpoint, requests name the bucket in the
    path (MinIO's and Ceph's default), on AWS in the host name. ``access_key_id`` and
    ``secret_access_key`` come together; both None takes the usual AWS sources (``AWS_*``
    environment variables, web identity, instance metadata). ``prefix`` puts every object under
    ``<prefix>/`` in a shared bucket. ``ValueError`` for credentials given by half or no bucket.
    Constructing it sends no request.
    """

    def __init__(
        self,
        endpoint_url: str | None,
        bucket: str,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        prefix: str = "",
    ) -> None:
        if not bucket:
            raise ValueError("the S3 blob store needs a bucket name")
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give the S3 access key id and secret access key together, or neither")
        self.bucket = bucket
        self.endpoint = endpoint_url or f"AWS S3 in {region}"
        config: S3Config = {"region": region}
        if endpoint_url:
            config["endpoint"] = endpoint_url
            config["virtual_hosted_style_request"] = False
        if access_key_id is not None and secret_access_key is not None:
            config["access_key_id"] = access_key_id
            config["secret_access_key"] = secret_access_key
        self._store = S3Store(
            bucket,
            prefix=prefix.strip("/") or None,
            config=config,
            client_options={
                "allow_http": bool(endpoint_url and endpoint_url.startswith("http://")),
                "connect_timeout": _CONNECT_TIMEOUT,
            },
            retry_config={
                "max_retries": _RETRIES,
                "retry_timeout": _RETRY_WITHIN,
                "backoff": {
                    "init_backoff": timedelta(milliseconds=100),
                    "max_backoff": timedelta(seconds=5),
                    "base": 2,
                },
            },
        )

    async def put(
        self, tenant: str, chunks: AsyncIterable[bytes], content_type: str, max_bytes: int
    ) -> StoredBlob:
        """See ``BlobStore.put``: spooled to ``TMPDIR``, then uploaded; bytes the bucket holds
        already (a HEAD first) are uploaded again with their first content type, as S3 has no
        other way to renew an object's time. S3 makes an object visible only once whole."""
        check_tenant(tenant)
        check_content_type(content_type)
        check_max_bytes(max_bytes)
        try:
            spool_path, spool = await asyncio.to_thread(open_spool, None)
        except OSError as exc:
            raise BlobStoreUnavailableError(f"cannot make a spool file: {exc}") from exc
        try:
            with spool:
                spooled = await spool_chunks(chunks, spool, max_bytes)
                try:
                    await asyncio.to_thread(spool.flush)
                except OSError as exc:
                    raise BlobStoreUnavailableError(f"cannot write {spool_path}: {exc}") from exc
            key = blob_key(tenant, spooled.sha256)
            stored = await self._stat_or_none(key)
            # Stored again (S3 cannot touch an object): its time is retention's start.
            kept_type = content_type if stored is None else stored.content_type
            try:
                await obstore.put_async(
                    self._store,
                    key,
                    spool_path,
                    attributes={"Content-Type": kept_type},
                    max_concurrency=_UPLOAD_PARTS_IN_FLIGHT,
                )
            except (FileNotFoundError, ObstoreError) as exc:  # a PUT's 404 is NoSuchBucket
                raise self._failure(exc) from exc
        finally:
            spool_path.unlink(missing_ok=True)
        return StoredBlob(key, spooled.sha256, spooled.size, kept_type)

    async def put_bytes(
        self, tenant: str, data: bytes, content_type: str, max_bytes: int
    ) -> StoredBlob:
        """See ``BlobStore.put_bytes``."""
        return await self.put(tenant, one_chunk(data), content_type, max_bytes)

    def read(self, key: str) -> AsyncIterator[bytes]:
        """See ``BlobStore.read``: one GET, streamed."""
        split_blob_key(key)
        return self._read_chunks(key)

    async def _read_chunks(self, key: str) -> AsyncIterator[bytes]:
        found = await self._get(key)
        try:
            # obstore gathers network reads to at least half a MiB; a gathered chunk may pass
            # 1 MiB by one read, so it is cut at READ_CHUNK_BYTES.
            async for chunk in found.stream(min_chunk_size=READ_CHUNK_BYTES // 2):
                if len(chunk) <= READ_CHUNK_BYTES:
                    yield chunk
                    continue
                view = memoryview(chunk)
                for start in range(0, len(view), READ_CHUNK_BYTES):
                    yield bytes(view[start : start + READ_CHUNK_BYTES])
        except ObstoreError as exc:
            raise self._failure(exc) from exc

    async def read_all(self, key: str) -> bytes:
        """See ``BlobStore.read_all``."""
        split_blob_key(key)
        found = await self._get(key)
        try:
            return (await found.bytes_async()).to_bytes()
        except ObstoreError as exc:
            raise self._failure(exc) from exc

    async def stat(self, key: str) -> StoredBlob:
        """See ``BlobStore.stat``: one HEAD."""
        split_blob_key(key)
        stored = await self._stat_or_none(key)
        if stored is None:
            raise await self._missing(key)
        return stored

    async def delete(self, key: str) -> None:
        """See ``BlobStore.delete``: S3 answers a DELETE of a missing object with success."""
        split_blob_key(key)
        try:
            await obstore.delete_async(self._store, key)
        except FileNotFoundError:
            problem = await self._missing(key)  # some stores answer 404 for a missing object
            if isinstance(problem, BlobStoreUnavailableError):
                raise problem from None
        except ObstoreError as exc:
            raise self._failure(exc) from exc

    async def stored(self) -> AsyncIterator[StoredAt]:
        """See ``BlobStore.stored``: a LIST of the bucket (under the prefix), its objects'
        last-modified times."""
        try:
            async for batch in obstore.list(self._store):
                for meta in batch:
                    try:
                        key = blob_key(*str(meta["path"]).split("/", 1))
                    except (ValueError, TypeError):
                        continue  # not a blob of this store
                    yield StoredAt(key, meta["last_modified"].astimezone(UTC))
        except ObstoreError as exc:
            raise self._failure(exc) from exc

    async def close(self) -> None:
        """Nothing to release explicitly: obstore's pooled connections go with the store."""

    async def _get(self, key: str) -> GetResult:
        try:
            return await obstore.get_async(self._store, key)
        except FileNotFoundError:
            raise await self._missing(key) from None
        except ObstoreError as exc:
            raise self._failure(exc) from exc

    async def _stat_or_none(self, key: str) -> StoredBlob | None:
        try:
            head = await obstore.get_async(self._store, key, options={"head": True})
        except FileNotFoundError:
            return None
        except ObstoreError as exc:
            raise self._failure(exc) from exc
        _, sha256 = split_blob_key(key)
        content_type = head.attributes.get("Content-Type") or DEFAULT_CONTENT_TYPE
        return StoredBlob(key, sha256, head.meta["size"], content_type)

    async def _missing(self, key: str) -> BlobNotFoundError | BlobStoreUnavailableError:
        """What a 404 for ``key`` means: the blob is missing, or the whole bucket is (a HEAD's
        404 has no body to tell them apart, so the bucket is listed once)."""
        tenant, _ = split_blob_key(key)
        try:
            await obstore.list_with_delimiter_async(self._store, tenant)
        except (FileNotFoundError, ObstoreError) as exc:
            return self._failure(exc)
        return BlobNotFoundError(key)

    def _failure(self, exc: Exception) -> BlobStoreUnavailableError:
        reason = str(exc).split("\n", 1)[0][:_ERROR_CHARS]
        if "NoSuchBucket" in str(exc):
            return BlobStoreUnavailableError(
                f"the S3 bucket {self.bucket!r} does not exist at {self.endpoint}: create it "
                "(the hub does not create buckets) or correct the bucket name"
            )
        return BlobStoreUnavailableError(
            f"the S3 bucket {self.bucket!r} at {self.endpoint} cannot be used: {reason}"
        )
