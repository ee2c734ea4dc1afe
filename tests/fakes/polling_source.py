"""A test-only polling source: an external system with a numbered list of form submissions.

The checkpoint is the number of the last submission published ("0" before any); each poll
returns up to ``batch`` submissions after it. Event ids are derived from the external number,
so a re-poll produces the same ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connectors.sdk import NewEvent, PollResult
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.sdk import ConnectorContext

__all__ = ["NumberedSubmissions", "event_id_of"]

CONTRACT = contract_for("nl.gemeente.formulier.ingediend", 1)
_NAMESPACE = uuid.UUID("1f0e2d3c-4b5a-4968-8776-655443322110")


def event_id_of(number: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, str(number)))


@dataclass
class NumberedSubmissions:
    """Submissions 1..``total``; ``polls`` records the checkpoint each poll started from."""

    total: int
    batch: int = 4
    interval_s: float = 0.05
    polls: list[str | None] = field(default_factory=list)

    async def poll(self, context: ConnectorContext, checkpoint: str | None) -> PollResult:
        self.polls.append(checkpoint)
        after = int(checkpoint or "0")
        numbers = range(after + 1, min(self.total, after + self.batch) + 1)
        events = [
            NewEvent(
                spec=CONTRACT,
                payload={
                    **CONTRACT.example,
                    "submission_id": str(uuid.uuid5(_NAMESPACE, f"submission-{n}")),
                    "reference": f"OF-{n}",
                },
                tenant=context.tenant.id,
                event_id=event_id_of(n),
                source_system="numbered",
            )
            for n in numbers
        ]
        return PollResult(events, str(numbers[-1] if numbers else after))
