"""Which blobs may go (hub.blobs.retention): decisions only."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hub.blobs import StoredAt
from hub.blobs.retention import named_blobs, removable

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
A, B, C = (hashlib.sha256(x).hexdigest() for x in (b"a", b"b", b"c"))


def test_a_record_names_the_digests_it_holds_whole_and_lowercase() -> None:
    value = (
        f'{{"sha256": "{A}", "url": "https://hub/api/v1/tenants/0363/attachments/{B}",'
        f' "longer": "{C}0", "upper": "{A.upper()}"}}'
    ).encode()
    assert named_blobs(value) == {A, B}  # 65 hex digits are no SHA-256; uppercase is not ours
    assert named_blobs(None) == set()


def test_only_old_blobs_that_nothing_pending_names_may_go() -> None:
    old, young = NOW - timedelta(days=40), NOW - timedelta(days=1)
    stored = [
        StoredAt(f"0363/{A}", old),
        StoredAt(f"0599/{A}", old),  # another tenant's same bytes: named by the same digest
        StoredAt(f"0363/{B}", old),
        StoredAt(f"0363/{C}", young),
    ]
    assert removable(stored, {A}, NOW - timedelta(days=30)) == [f"0363/{B}"]
    assert removable(stored, set(), NOW - timedelta(days=30)) == sorted(
        [f"0363/{A}", f"0599/{A}", f"0363/{B}"]
    )
