"""The blob stores' shared suite (``BlobStoreSuite``), run here on ``FolderBlobStore`` and in
tests/integration/test_blob_s3.py on ``S3BlobStore``; then what only the folder store does."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import stat
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.blobs import (
    BlobNotFoundError,
    BlobStore,
    BlobStoreUnavailableError,
    BlobTooLargeError,
    FolderBlobStore,
    StoredBlob,
)
from hub.blobs.store import blob_key

MiB = 1024 * 1024
TENANT, OTHER_TENANT = "0363", "0599"
SHA = hashlib.sha256(b"some attachment").hexdigest()

StoredNames = Callable[[], list[str]]


def random_bytes(size: int, seed: int = 8) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Chunks:
    """``data`` as an async iterable of ``size``-byte chunks, counting how many were taken;
    with ``fail_after``, it raises ConnectionResetError instead of that chunk (a client gone)."""

    def __init__(self, data: bytes, size: int = 64 * 1024, fail_after: int | None = None) -> None:
        self.data, self.size, self.fail_after, self.taken = data, size, fail_after, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), self.size):
            if self.taken == self.fail_after:
                raise ConnectionResetError("the client went away")
            self.taken += 1
            yield self.data[start : start + self.size]


class BlobStoreSuite:
    """What every ``BlobStore`` does. A subclass provides the fixtures ``store`` (a new, empty
    store) and ``stored_names`` (lists every file or object the store keeps, spool files too)."""

    async def test_a_20_mib_blob_round_trips_with_its_sha256(self, store: BlobStore) -> None:
        data = random_bytes(20 * MiB)
        expected = hashlib.sha256(data).hexdigest()

        stored = await store.put(TENANT, Chunks(data), "application/pdf", max_bytes=25 * MiB)

        assert stored == StoredBlob(f"0363/{expected}", expected, 20 * MiB, "application/pdf")
        assert await store.stat(stored.key) == stored
        chunks = [chunk async for chunk in store.read(stored.key)]
        assert max(len(chunk) for chunk in chunks) <= MiB
        assert hashlib.sha256(b"".join(chunks)).hexdigest() == expected
        assert await store.read_all(stored.key) == data

    async def test_more_than_max_bytes_is_refused_at_once_and_keeps_nothing(
        self, store: BlobStore, stored_names: StoredNames
    ) -> None:
        source = Chunks(random_bytes(3 * MiB), size=256 * 1024)

        with pytest.raises(BlobTooLargeError) as refused:
            await store.put(TENANT, source, "application/pdf", max_bytes=MiB)

        assert refused.value.limit == MiB
        assert source.taken == 5  # four chunks are exactly 1 MiB; the fifth is one too many
        assert stored_names() == []
        with pytest.raises(BlobTooLargeError):
            await store.put_bytes(TENANT, b"x" * 11, "text/plain", max_bytes=10)
        assert stored_names() == []

    async def test_exactly_max_bytes_is_stored(self, store: BlobStore) -> None:
        stored = await store.put_bytes(TENANT, b"x" * 10, "text/plain", max_bytes=10)
        assert stored.size == 10
        assert await store.read_all(stored.key) == b"x" * 10

    async def test_a_source_that_fails_midway_keeps_nothing(
        self, store: BlobStore, stored_names: StoredNames
    ) -> None:
        with pytest.raises(ConnectionResetError):
            await store.put(TENANT, Chunks(random_bytes(MiB), fail_after=3), "text/plain", MiB)
        assert stored_names() == []

    async def test_the_same_bytes_twice_are_one_blob_with_the_first_content_type(
        self, store: BlobStore, stored_names: StoredNames
    ) -> None:
        data = random_bytes(3 * MiB)
        first = await store.put_bytes(TENANT, data, "application/pdf", max_bytes=5 * MiB)
        kept = stored_names()

        again = await store.put(TENANT, Chunks(data, size=1000), "application/x-pdf", 5 * MiB)

        assert again == first
        assert stored_names() == kept
        assert await store.stat(first.key) == first

    async def test_every_blob_is_listed_with_when_it_was_last_stored(
        self, store: BlobStore
    ) -> None:
        before = datetime.now(UTC) - timedelta(seconds=2)  # S3 times have whole seconds
        first = await store.put_bytes(TENANT, b"een", "text/plain", max_bytes=100)
        second = await store.put_bytes(OTHER_TENANT, b"twee", "text/plain", max_bytes=100)
        listed = {found.key: found.stored_at async for found in store.stored()}
        assert set(listed) == {first.key, second.key}
        assert all(before <= moment <= datetime.now(UTC) for moment in listed.values())
        await asyncio.sleep(1.1)

        await store.put_bytes(TENANT, b"een", "text/plain", max_bytes=100)  # stored again

        renewed = {found.key: found.stored_at async for found in store.stored()}
        assert renewed[first.key] > listed[first.key]  # retention counts from the last put
        assert renewed[second.key] == listed[second.key]

    async def test_the_same_bytes_of_two_tenants_are_two_blobs(self, store: BlobStore) -> None:
        ours = await store.put_bytes(TENANT, b"%PDF-1.7", "application/pdf", max_bytes=100)
        theirs = await store.put_bytes(OTHER_TENANT, b"%PDF-1.7", "application/pdf", 100)

        assert (ours.key, theirs.key) == (f"0363/{ours.sha256}", f"0599/{ours.sha256}")
        await store.delete(ours.key)
        assert await store.read_all(theirs.key) == b"%PDF-1.7"

    async def test_concurrent_puts_of_the_same_bytes_make_one_whole_blob(
        self, store: BlobStore, stored_names: StoredNames
    ) -> None:
        data = random_bytes(4 * MiB)
        puts = [store.put(TENANT, Chunks(data), "application/pdf", 5 * MiB) for _ in range(6)]

        stored = await asyncio.gather(*puts)

        assert {blob.key for blob in stored} == {f"0363/{sha256_of(data)}"}
        assert await store.read_all(stored[0].key) == data
        await store.delete(stored[0].key)
        assert stored_names() == []  # one blob, no spool file left behind

    async def test_a_missing_blob_is_not_found(self, store: BlobStore) -> None:
        key = blob_key(TENANT, SHA)

        with pytest.raises(BlobNotFoundError) as missing:
            await store.stat(key)
        assert missing.value.key == key
        with pytest.raises(BlobNotFoundError):
            await store.read_all(key)
        with pytest.raises(BlobNotFoundError):
            await anext(aiter(store.read(key)))
        await store.delete(key)  # missing is fine

    async def test_a_deleted_blob_is_gone(
        self, store: BlobStore, stored_names: StoredNames
    ) -> None:
        stored = await store.put_bytes(TENANT, b"weg", "text/plain", max_bytes=100)

        await store.delete(stored.key)
        await store.delete(stored.key)

        with pytest.raises(BlobNotFoundError):
            await store.stat(stored.key)
        assert stored_names() == []

    async def test_an_empty_blob_is_a_blob(self, store: BlobStore) -> None:
        stored = await store.put_bytes(TENANT, b"", "text/plain", max_bytes=0)

        assert (stored.size, stored.sha256) == (0, sha256_of(b""))
        assert [chunk async for chunk in store.read(stored.key)] == []
        assert await store.stat(stored.key) == stored

    @pytest.mark.parametrize(
        "key",
        [
            f"../{SHA}",
            f"0363/../../{SHA}",
            "0363/../../../etc/passwd",
            f"/0363/{SHA}",
            f"0363//{SHA}",
            f"0363\\{SHA}",
            f"363/{SHA}",
            f"03630/{SHA}",
            f"０３６３/{SHA}",  # full-width digits: int() reads them, a path would not
            f"0363/{SHA.upper()}",
            f"0363/{SHA[:-1]}",
            f"0363/{SHA}/x",
            f"0363/{SHA}.json",
            "0363",
            "",
        ],
    )
    async def test_an_invalid_key_is_refused_before_the_store_is_touched(
        self, store: BlobStore, stored_names: StoredNames, key: str
    ) -> None:
        with pytest.raises(ValueError, match="blob key"):
            await store.stat(key)
        with pytest.raises(ValueError, match="blob key"):
            await store.read_all(key)
        with pytest.raises(ValueError, match="blob key"):
            await store.delete(key)
        with pytest.raises(ValueError, match="blob key"):
            store.read(key)
        assert stored_names() == []

    @pytest.mark.parametrize("tenant", ["..", "363", "03630", "０３６３", "abcd", "0363/", ""])
    async def test_an_invalid_tenant_is_refused(
        self, store: BlobStore, stored_names: StoredNames, tenant: str
    ) -> None:
        with pytest.raises(ValueError, match="tenant"):
            await store.put_bytes(tenant, b"x", "text/plain", max_bytes=10)
        assert stored_names() == []

    @pytest.mark.parametrize(
        "content_type", ["", "pdf", "text/plain\r\nX-Injected: 1", "tëxt/plain", "a/" + "b" * 300]
    )
    async def test_a_content_type_that_is_no_mime_type_is_refused(
        self, store: BlobStore, stored_names: StoredNames, content_type: str
    ) -> None:
        with pytest.raises(ValueError, match="content type"):
            await store.put_bytes(TENANT, b"x", content_type, max_bytes=10)
        assert stored_names() == []

    async def test_a_content_type_with_parameters_is_kept(self, store: BlobStore) -> None:
        stored = await store.put_bytes(TENANT, b"hoi", "text/plain; charset=utf-8", 10)
        assert (await store.stat(stored.key)).content_type == "text/plain; charset=utf-8"


def _files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


class TestFolderBlobStore(BlobStoreSuite):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[BlobStore]:
        store: BlobStore = FolderBlobStore(tmp_path / "blobs")  # mypy: it is a BlobStore
        yield store
        await store.close()

    @pytest.fixture
    def stored_names(self, tmp_path: Path) -> StoredNames:
        return lambda: _files_under(tmp_path)

    async def test_a_blob_is_a_file_of_its_own_with_a_json_sidecar(
        self, store: BlobStore, tmp_path: Path
    ) -> None:
        stored = await store.put_bytes(TENANT, b"%PDF-1.7", "application/pdf", max_bytes=100)

        blob = tmp_path / "blobs" / "0363" / stored.sha256
        sidecar = blob.with_name(f"{stored.sha256}.json")
        assert _files_under(tmp_path / "blobs") == [f"0363/{blob.name}", f"0363/{sidecar.name}"]
        assert blob.read_bytes() == b"%PDF-1.7"
        assert json.loads(sidecar.read_text()) == {"content_type": "application/pdf"}
        assert stat.S_IMODE(blob.stat().st_mode) == 0o600  # attachments hold personal data

    async def test_a_reader_never_sees_a_blob_still_arriving(
        self, store: BlobStore, tmp_path: Path
    ) -> None:
        data = random_bytes(3 * MiB)
        halfway, go_on = asyncio.Event(), asyncio.Event()

        async def slow_client() -> AsyncIterator[bytes]:
            yield data[: 2 * MiB]
            halfway.set()
            await go_on.wait()
            yield data[2 * MiB :]

        put = asyncio.create_task(store.put(TENANT, slow_client(), "application/pdf", 5 * MiB))
        await halfway.wait()
        await asyncio.sleep(0.05)  # let the first block reach the spool file
        key = blob_key(TENANT, sha256_of(data))
        with pytest.raises(BlobNotFoundError):
            await store.stat(key)
        [spooling] = _files_under(tmp_path / "blobs")
        assert spooling.startswith("0363/.incoming-")
        assert spooling.endswith(".part")

        go_on.set()
        stored = await put
        assert await store.read_all(stored.key) == data

    async def test_a_folder_that_cannot_be_made_is_a_store_failure_naming_it(
        self, tmp_path: Path
    ) -> None:
        in_the_way = tmp_path / "blobs"
        in_the_way.write_text("a file where the folder should be")
        store = FolderBlobStore(in_the_way)

        with pytest.raises(BlobStoreUnavailableError, match=str(in_the_way)):
            await store.put_bytes(TENANT, b"x", "text/plain", max_bytes=10)
        # Was: listed as an empty store ("0 blob(s) stored"), so a sweep said all was well.
        with pytest.raises(BlobStoreUnavailableError, match=f"{in_the_way}.*not a folder"):
            [found async for found in store.stored()]

    async def test_a_store_not_made_yet_lists_nothing(self, tmp_path: Path) -> None:
        assert [found async for found in FolderBlobStore(tmp_path / "none").stored()] == []
