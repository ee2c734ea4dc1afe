"""What every connector declares about itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from connectors.sink import Sink, SinkContext

__all__ = ["ConnectorSpec"]


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector: its name in tenant config, source or sink, and its config model."""

    name: str
    kind: Literal["source", "sink"]
    config: type[BaseModel]
    summary: str
    # Builds the sink from its validated config; None for a sink that needs no worker ("topic").
    build: Callable[[Any, SinkContext], Sink] | None = None

    @property
    def pushes(self) -> bool:
        """Whether a delivery worker pushes events to the back office (else it reads its topic)."""
        return self.build is not None
