"""``FolderBlobStore``: the embedded blob store, one folder on a local disk.

Layout under ``root``: ``<tenant>/<sha256>`` holds a blob's bytes and ``<tenant>/<sha256>.json``
its sidecar, ``{"content_type": "..."}``. A put spools into ``<tenant>/.incoming-*.part`` (same
folder, so the final rename never crosses file systems), fsyncs it, writes the sidecar the same
way, then renames the spool file onto the blob's name (``os.replace``, atomic on POSIX) and
fsyncs the folder: a reader sees the whole blob or none. Files are created with mode 0600
(``tempfile.mkstemp``): attachments hold personal data. Blocking calls run in worker threads
(``asyncio.to_thread``), in blocks of at most 1 MiB.
"""

from __future__ import annotations

__all__ = ["FolderBlobStore"]

import asyncio
import json
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar

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

P = ParamSpec("P")
T = TypeVar("T")


class FolderBlobStore:
    """A ``BlobStore`` (hub/blobs/store.py) in the folder ``root``, created on the first put.

    Constructing it touches nothing. An ``OSError`` other than a missing blob (no space left,
    permission denied) is raised as ``BlobStoreUnavailableError`` naming the folder. A put that
    races a delete of the same key may leave the blob without its sidecar; it then reads as
    ``application/octet-stream`` until the same bytes are put again.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(
        self, tenant: str, chunks: AsyncIterable[bytes], content_type: str, max_bytes: int
    ) -> StoredBlob:
        """See ``BlobStore.put``: spooled in the tenant's folder, renamed into place."""
        folder = self.root / check_tenant(tenant)
        check_content_type(content_type)
        check_max_bytes(max_bytes)
        try:
            spool_path, spool = await asyncio.to_thread(_open_spool, folder)
        except OSError as exc:
            raise self._unavailable(exc) from exc
        try:
            with spool:
                spooled = await spool_chunks(chunks, spool, max_bytes)
                await self._on_disk(_flush_to_disk, spool)
            stored_type = await self._on_disk(
                _install, spool_path, folder, spooled.sha256, content_type
            )
        finally:
            spool_path.unlink(missing_ok=True)  # renamed away on success; cheap either way
        return StoredBlob(
            blob_key(tenant, spooled.sha256), spooled.sha256, spooled.size, stored_type
        )

    async def put_bytes(
        self, tenant: str, data: bytes, content_type: str, max_bytes: int
    ) -> StoredBlob:
        """See ``BlobStore.put_bytes``."""
        return await self.put(tenant, one_chunk(data), content_type, max_bytes)

    def read(self, key: str) -> AsyncIterator[bytes]:
        """See ``BlobStore.read``: an open file keeps its bytes even if the blob is deleted."""
        tenant, sha256 = split_blob_key(key)
        return self._read_chunks(key, self.root / tenant / sha256)

    async def _read_chunks(self, key: str, path: Path) -> AsyncIterator[bytes]:
        try:
            blob = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None
        except OSError as exc:
            raise self._unavailable(exc) from exc
        try:
            while chunk := await asyncio.to_thread(blob.read, READ_CHUNK_BYTES):
                yield chunk
        except OSError as exc:
            raise self._unavailable(exc) from exc
        finally:
            blob.close()

    async def read_all(self, key: str) -> bytes:
        """See ``BlobStore.read_all``."""
        tenant, sha256 = split_blob_key(key)
        try:
            return await asyncio.to_thread((self.root / tenant / sha256).read_bytes)
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None
        except OSError as exc:
            raise self._unavailable(exc) from exc

    async def stat(self, key: str) -> StoredBlob:
        """See ``BlobStore.stat``: the size from the file, the content type from the sidecar."""
        tenant, sha256 = split_blob_key(key)
        folder = self.root / tenant
        try:
            size = (await asyncio.to_thread((folder / sha256).stat)).st_size
            content_type = await asyncio.to_thread(_read_sidecar, folder, sha256)
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None
        except OSError as exc:
            raise self._unavailable(exc) from exc
        return StoredBlob(key, sha256, size, content_type or DEFAULT_CONTENT_TYPE)

    async def delete(self, key: str) -> None:
        """See ``BlobStore.delete``: the blob first, then its sidecar."""
        tenant, sha256 = split_blob_key(key)
        folder = self.root / tenant
        try:
            await asyncio.to_thread((folder / sha256).unlink, missing_ok=True)
            await asyncio.to_thread(_sidecar_path(folder, sha256).unlink, missing_ok=True)
        except OSError as exc:
            raise self._unavailable(exc) from exc

    async def stored(self) -> AsyncIterator[StoredAt]:
        """See ``BlobStore.stored``: each blob file's modification time."""
        for found in await self._on_disk(_blob_files, self.root):
            yield found

    async def close(self) -> None:
        """Nothing to release: no file stays open between calls."""

    async def _on_disk(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work`` in a worker thread; any OSError is the store's failure, not the blob's."""
        try:
            return await asyncio.to_thread(work, *args, **kwargs)
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: OSError) -> BlobStoreUnavailableError:
        reason = exc.strerror or str(exc)
        return BlobStoreUnavailableError(f"the blob folder {self.root} cannot be used: {reason}")


def _blob_files(root: Path) -> list[StoredAt]:
    """Every ``<root>/<tenant>/<sha256>`` with its modification time; nothing if no root yet
    (NotADirectoryError when ``root`` is a file: no store, not an empty one)."""
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(20, "not a folder", str(root))
    found = []
    for folder in root.glob("[0-9][0-9][0-9][0-9]"):
        for path in folder.iterdir():
            try:
                key = blob_key(folder.name, path.name)
                moment = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except (ValueError, FileNotFoundError):  # a sidecar, a spool, removed meanwhile
                continue
            found.append(StoredAt(key, moment))
    return found


def _open_spool(folder: Path) -> tuple[Path, BinaryIO]:
    folder.mkdir(parents=True, exist_ok=True)
    return open_spool(folder)


def _flush_to_disk(spool: BinaryIO) -> None:
    spool.flush()
    os.fsync(spool.fileno())


def _sidecar_path(folder: Path, sha256: str) -> Path:
    return folder / f"{sha256}.json"


def _read_sidecar(folder: Path, sha256: str) -> str | None:
    """The stored content type, or None when the sidecar is missing."""
    path = _sidecar_path(folder, sha256)
    try:
        content_type = json.loads(path.read_bytes()).get("content_type")
    except FileNotFoundError:
        return None
    except (ValueError, AttributeError) as exc:
        raise BlobStoreUnavailableError(f"{path} is not a blob sidecar the store wrote") from exc
    if not isinstance(content_type, str):
        raise BlobStoreUnavailableError(f"{path} names no content_type")
    return content_type


def _install(spool_path: Path, folder: Path, sha256: str, content_type: str) -> str:
    """Rename the fsynced spool file onto the blob's name, after its sidecar; the content type
    the blob is stored with (the first one, when these bytes were already there)."""
    blob_path = folder / sha256
    if blob_path.exists():
        stored = _read_sidecar(folder, sha256)
        if stored is not None:
            os.utime(blob_path)  # stored again: retention counts from now
            return stored
    _write_sidecar(folder, sha256, content_type)
    os.replace(spool_path, blob_path)
    _fsync_folder(folder)
    return content_type


def _write_sidecar(folder: Path, sha256: str, content_type: str) -> None:
    spool_path, sidecar = open_spool(folder)
    try:
        with sidecar:
            sidecar.write(json.dumps({"content_type": content_type}).encode())
            _flush_to_disk(sidecar)
        os.replace(spool_path, _sidecar_path(folder, sha256))
    finally:
        spool_path.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a crash right after must not lose the blob's name)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
