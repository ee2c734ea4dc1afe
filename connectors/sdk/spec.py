"""What every connector declares about itself: ``SinkSpec`` or ``SourceSpec``, one per folder,
named once in connectors/registry.py.

The spec is the single source for a connector's config validation (``config``, a pydantic model
with ``extra="forbid"``), its generated reference (docs/connectors.md: field descriptions,
``example``), and what ``knooppunt config check`` knows about it (the contract types a sink
``accepts``, a source ``emits``).

Contract patterns (``accepts``, ``emits``): ``"*"`` for every type; an event type
(``nl.gemeente.formulier.ingediend``); or a family prefix (``nl.overheid.zaken`` covers
``nl.overheid.zaken.zaak.create`` and every other type under it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from connectors.sdk.context import ConnectorContext
    from connectors.sdk.sink import Sink
    from connectors.sdk.source import PollingSource, PushSource

__all__ = ["ConnectorSpec", "SinkSpec", "SourceSpec", "covers"]

EVERYTHING = "*"


def covers(pattern: str, contract: str) -> bool:
    """Whether ``pattern`` (``*``, a type or a family prefix) covers ``contract`` (a type, or a
    family prefix as a route may name one: then the pattern must cover the whole family)."""
    return pattern in (EVERYTHING, contract) or contract.startswith(pattern + ".")


@dataclass(frozen=True)
class SinkSpec:
    """A sink: ``build(config, context)`` makes the Sink of one destination of one tenant; None
    for a sink the hub does not push for (``topic``: the back office reads its topic)."""

    name: str
    config: type[BaseModel]
    summary: str
    accepts: tuple[str, ...] = (EVERYTHING,)
    build: Callable[[Any, ConnectorContext], Sink] | None = None
    example: Mapping[str, Any] = field(default_factory=dict)
    kind: Literal["sink"] = field(default="sink", init=False)

    @property
    def pushes(self) -> bool:
        """Whether a delivery worker pushes events to the back office (else it reads its topic)."""
        return self.build is not None

    def accepts_contract(self, contract: str) -> bool:
        """Whether events of ``contract`` (a type or family prefix) may be routed to this sink."""
        return any(covers(pattern, contract) for pattern in self.accepts)


@dataclass(frozen=True)
class SourceSpec:
    """A source: ``push(config)`` builds a PushSource (HTTP routes the hub mounts) or
    ``poll(config, context)`` the PollingSource of one tenant (no I/O: check what can be
    checked, such as the secrets it names, and raise KnooppuntError to refuse the start);
    exactly one of the two."""

    name: str
    config: type[BaseModel]
    summary: str
    emits: tuple[str, ...]
    push: Callable[[Any], PushSource] | None = None
    poll: Callable[[Any, ConnectorContext], PollingSource] | None = None
    example: Mapping[str, Any] = field(default_factory=dict)
    kind: Literal["source"] = field(default="source", init=False)

    def __post_init__(self) -> None:
        if (self.push is None) == (self.poll is None):
            raise ValueError(f"source {self.name!r}: give exactly one of push or poll")
        if not self.emits:
            raise ValueError(f"source {self.name!r}: name the contract types it emits")


ConnectorSpec = SinkSpec | SourceSpec
