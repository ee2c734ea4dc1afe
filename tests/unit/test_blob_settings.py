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
