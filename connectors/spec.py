"""What every connector declares about itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

__all__ = ["ConnectorSpec"]


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector: its name in tenant config, source or sink, and its config model."""

    name: str
    kind: Literal["source", "sink"]
    config: type[BaseModel]
    summary: str
