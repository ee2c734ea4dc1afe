"""Which blobs may go: decisions only, apart from I/O (the sweep that reads Kafka and deletes is
hub/runtime/blob_sweep.py).

A blob is removed once it is older than the retention period (counted from the last time its
bytes were stored: the latest event that carried them) and no event that may still be delivered
names it: a record on a contract topic the router has not passed yet, on a push destination or
retry tier the delivery engine has not passed yet, or any dead letter (an operator may replay
it). A record names a blob when its value holds the blob's SHA-256 in lowercase hex (an
attachment's ``sha256`` and its URL both do), whatever the contract version.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from hub.blobs.store import split_blob_key

if TYPE_CHECKING:
    from datetime import datetime

    from hub.blobs.store import StoredAt

__all__ = ["named_blobs", "removable"]

_SHA256_HEX = re.compile(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def named_blobs(value: bytes | None) -> set[str]:
    """The SHA-256 digests (lowercase hex) a record's value names."""
    return {match.decode() for match in _SHA256_HEX.findall(value or b"")}


def removable(stored: Iterable[StoredAt], named: Collection[str], before: datetime) -> list[str]:
    """The keys, sorted, of the blobs stored before ``before`` whose SHA-256 is not in
    ``named`` (the digests pending events name)."""
    return sorted(
        blob.key
        for blob in stored
        if blob.stored_at < before and split_blob_key(blob.key)[1] not in named
    )
