"""``S3BlobStore`` against a real S3-compatible server on loopback (moto's server mode, started
for the session by tests/s3_under_test.py): the shared suite every blob store passes, then
what only S3 does (object names and headers, multipart, a missing bucket, no answer)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import obstore
import pytest

from hub.blobs import BlobNotFoundError, BlobStore, BlobStoreUnavailableError
from hub.blobs.s3 import S3BlobStore
from hub.blobs.store import blob_key
from tests.kafka_under_test import free_port
from tests.s3_under_test import S3UnderTest, s3_for_session
from tests.unit.test_blob_folder import (
    SHA,
    TENANT,
    BlobStoreSuite,
    Chunks,
    MiB,
    StoredNames,
    random_bytes,
)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3UnderTest]:
    with s3_for_session() as server:
        yield server


@pytest.fixture
def bucket(s3: S3UnderTest) -> str:
    name = f"knooppunt-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(name)
    return name


def s3_store(s3: S3UnderTest, bucket: str, prefix: str = "") -> S3BlobStore:
    return S3BlobStore(
        s3.endpoint_url, bucket, s3.region, s3.access_key_id, s3.secret_access_key, prefix
    )


class TestS3BlobStore(BlobStoreSuite):
    @pytest.fixture
    def spool_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        """Where this test's puts spool (``TMPDIR``), so a spool file left behind is seen."""
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        return tmp_path

    @pytest.fixture
    async def store(
        self, s3: S3UnderTest, bucket: str, spool_dir: Path
    ) -> AsyncIterator[BlobStore]:
        store: BlobStore = s3_store(s3, bucket)  # mypy: it is a BlobStore
        yield store
        await store.close()

    @pytest.fixture
    def stored_names(self, s3: S3UnderTest, bucket: str, spool_dir: Path) -> StoredNames:
        def names() -> list[str]:
            spooled = [f"spool:{path.name}" for path in spool_dir.iterdir()]
            return s3.object_names(bucket) + spooled

        return names


async def test_an_object_is_named_by_prefix_tenant_and_sha256_with_its_content_type(
    s3: S3UnderTest, bucket: str
) -> None:
    store = s3_store(s3, bucket, prefix="/knooppunt/attachments/")

    stored = await store.put_bytes(TENANT, b"%PDF-1.7", "application/pdf", max_bytes=100)

    name = f"knooppunt/attachments/0363/{stored.sha256}"
    assert s3.object_names(bucket) == [name]
    found = await obstore.get_async(s3.client(bucket), name)
    assert found.attributes["Content-Type"] == "application/pdf"
    assert (await found.bytes_async()).to_bytes() == b"%PDF-1.7"


async def test_a_large_blob_is_uploaded_in_parts(s3: S3UnderTest, bucket: str) -> None:
    store = s3_store(s3, bucket)

    stored = await store.put(TENANT, Chunks(random_bytes(12 * MiB)), "application/pdf", 20 * MiB)

    meta = await obstore.head_async(s3.client(bucket), stored.key)
    assert (meta["e_tag"] or "").endswith('-3"')  # a multipart upload's ETag: 5 + 5 + 2 MiB
    assert meta["size"] == 12 * MiB


async def test_a_missing_bucket_is_a_store_failure_naming_bucket_and_endpoint(
    s3: S3UnderTest,
) -> None:
    store = s3_store(s3, "no-such-bucket")
    key = blob_key(TENANT, SHA)
    expected = f"'no-such-bucket' does not exist at {s3.endpoint_url}"

    with pytest.raises(BlobStoreUnavailableError, match=expected):
        await store.put_bytes(TENANT, b"x", "text/plain", max_bytes=10)
    with pytest.raises(BlobStoreUnavailableError, match=expected):
        await store.stat(key)
    with pytest.raises(BlobStoreUnavailableError, match=expected):
        await store.read_all(key)
    with pytest.raises(BlobStoreUnavailableError, match=expected):
        await anext(aiter(store.read(key)))


async def test_an_endpoint_that_does_not_answer_is_a_store_failure_naming_it() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    store = S3BlobStore(endpoint, "attachments", "us-east-1", "id", "secret")

    with pytest.raises(BlobStoreUnavailableError, match=f"'attachments' at {endpoint}"):
        await store.stat(blob_key(TENANT, SHA))


async def test_a_blob_deleted_by_another_client_is_not_found(s3: S3UnderTest, bucket: str) -> None:
    store = s3_store(s3, bucket)
    stored = await store.put_bytes(TENANT, b"weg", "text/plain", max_bytes=10)

    await obstore.delete_async(s3.client(bucket), stored.key)

    with pytest.raises(BlobNotFoundError):
        await store.stat(stored.key)


def test_credentials_come_together_or_not_at_all() -> None:
    with pytest.raises(ValueError, match="together"):
        S3BlobStore("http://127.0.0.1:9000", "attachments", "us-east-1", "id", None)
    S3BlobStore(None, "attachments", "eu-central-1", None, None)  # the usual AWS sources
