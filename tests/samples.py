"""Realistic sample payloads (test BSNs from the RvIG test set; they pass the 11-proef)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

VALID_BSN = "999993653"
OTHER_VALID_BSN = "999990019"
INVALID_BSN = "123456789"  # nine digits, fails the 11-proef


def submission(form_id: str = "parkeervergunning", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "submission_id": str(uuid.uuid4()),
        "reference": "OF-7TZ2QX",
        "form": {"id": form_id, "name": "Parkeervergunning aanvragen"},
        "language": "nl",
        "submitted_at": datetime.now(UTC).isoformat(),
        "authentication": {
            "method": "digid",
            "level_of_assurance": "substantial",
            "bsn": VALID_BSN,
        },
        "values": {"kenteken": "AB-123-C", "naam": "Jan Jansen"},
    }
    body.update(overrides)
    return body
