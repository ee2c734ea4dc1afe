"""The ``topic`` sink: the back office reads its own destination topic; no push delivery.

The router's copy on ``knooppunt.deliver.<tenant>.<destination>`` is the delivery. A Kafka ACL on
that topic gives the back office exactly its own events (README.md, docs/kafka-consumers.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from connectors.sdk import SinkSpec

__all__ = ["SPEC", "TopicConfig"]


class TopicConfig(BaseModel):
    """No settings: the destination topic's name follows from tenant and destination."""

    model_config = ConfigDict(extra="forbid", frozen=True)


SPEC = SinkSpec(
    name="topic",
    config=TopicConfig,
    summary="The back office consumes its destination topic itself.",
    accepts=("*",),
)
