"""Where the example back office keeps what it handled: SQLite, one transaction per record.

The table of events has the primary key (source, id), so keeping an event and recognising a
redelivery are one statement, in the same transaction as the handling itself. A real back
office does the same in its own database (a unique constraint on source + id): then a crash
between handling and the offset commit, which makes Kafka deliver the event again, changes
nothing. Records that are not valid events are parked in a table of their own, by their place
on Kafka, for someone to look at.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from examples.backoffice_consumer.events import ReceivedEvent

__all__ = ["EventStore", "Place"]

Place = tuple[str, int, int]  # topic, partition, offset

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, tenant TEXT NOT NULL,
    dataschema TEXT NOT NULL, subject TEXT, data TEXT NOT NULL,
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE TABLE IF NOT EXISTS parked (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    reason TEXT NOT NULL, value BLOB, parked_at TEXT NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);
"""


class EventStore:
    """The back office's own store (a file, or ``:memory:``)."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(path)
        self._db.executescript(_SCHEMA)

    def keep(self, event: ReceivedEvent, place: Place) -> bool:
        """Store ``event``; False when an event with its source and id was kept before."""
        with self._db:  # one transaction: committed on return, rolled back on an exception
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.source,
                    event.id,
                    event.type,
                    event.tenant,
                    event.dataschema,
                    event.subject,
                    json.dumps(event.data, ensure_ascii=False),
                    *place,
                    _now(),
                ),
            )
        return cursor.rowcount == 1

    def park(self, place: Place, reason: str, value: bytes | None) -> None:
        """Keep a record that is not a valid event, with the reason, for someone to look at."""
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO parked VALUES (?, ?, ?, ?, ?, ?)",
                (*place, reason, value, _now()),
            )

    def close(self) -> None:
        self._db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()
