"""What every contract payload model is: frozen, strict at the edge, with a subject that is never
personal data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Contract", "Frozen"]


class Frozen(BaseModel):
    """A frozen part of a contract; unknown fields are refused where events are produced."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Contract(Frozen):
    """A contract's payload. Consumers read it with ``extra="ignore"`` (see contracts.consuming),
    so a producer may add optional fields within a major version without breaking them."""

    def event_subject(self) -> str:
        """The CloudEvents ``subject``: an id of the thing, never a BSN or a name."""
        raise NotImplementedError

    def ordering_key(self) -> str:
        """What events must stay in order per (the key's second half); the subject by default."""
        return self.event_subject()

    def event_type_suffix(self) -> str | None:
        """For a family of event types (ZGW notifications): what follows the family's prefix."""
        return None

    def family_member(self) -> str | None:
        """For a family: which member (kanaal) this payload says it belongs to."""
        return None
