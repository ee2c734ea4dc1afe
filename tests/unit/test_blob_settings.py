"""Blob retention settings are bounded: a value no clock can count to is refused at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.runtime.settings import Settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("blob_retention_s", 999_999_999_999),  # was accepted; every sweep then overflowed
        ("blob_retention_s", 0),
        ("blob_sweep_interval_s", 0),
        ("blob_sweep_interval_s", 10**12),
    ],
)
def test_out_of_range_blob_settings_are_refused_naming_them(name: str, value: int) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**{name: value})  # type: ignore[arg-type]
    assert refused.value.errors()[0]["loc"] == (name,)


def test_the_defaults_are_30_days_and_an_hour() -> None:
    settings = Settings()
    assert (settings.blob_retention_s, settings.blob_sweep_interval_s) == (30 * 86400, 3600)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("blob_store", "s3://", "needs a bucket name"),  # was `unexpected ValueError` at start
        ("blob_store", "s3:///prefix", "needs a bucket name"),
        ("blob_store", "s3://My_Bucket", "needs a bucket name"),
        ("blob_store", "gs://bucket", "no other kind of store"),  # was a folder named 'gs:'
        ("s3_endpoint_url", "garbage", "must be an http:// or https:// URL"),  # was accepted
        ("s3_endpoint_url", "http://[::1", "must be an http:// or https:// URL"),
        ("public_url", "hub.example", "must be an http:// or https:// URL"),
        ("kafka_heap", "lots", "String should match pattern"),
    ],
)
def test_a_store_or_url_setting_that_cannot_work_is_refused_when_read(
    name: str, value: str, says: str
) -> None:
    """Found by a new user: KNOOPPUNT_BLOB_STORE=s3:// passed the settings and ended `run` in
    `unexpected ValueError`; KNOOPPUNT_S3_ENDPOINT_URL=garbage was not checked at all."""
    with pytest.raises(ValidationError) as refused:
        Settings(**{name: value})  # type: ignore[arg-type]
    [error] = refused.value.errors()
    assert error["loc"] == (name,)
    assert says in error["msg"]


def test_half_an_s3_key_pair_is_refused_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on the way: AWS_ACCESS_KEY_ID without its secret was `unexpected ValueError`."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "minio")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(ValidationError, match="only AWS_ACCESS_KEY_ID is set"):
        Settings(blob_store="s3://attachments")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "minio-secret")
    settings = Settings(blob_store="s3://attachments/hub", s3_endpoint_url="http://minio:9000")
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert Settings(s3_endpoint_url="").s3_endpoint_url is None
