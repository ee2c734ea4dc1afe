"""Every connector, named once. Adding a connector is one folder plus one line here."""

from __future__ import annotations

from connectors import topic, webhook
from connectors.spec import ConnectorSpec

__all__ = ["CONNECTORS", "connector_names", "sink_connector"]

CONNECTORS: tuple[ConnectorSpec, ...] = (topic.SPEC, webhook.SPEC)


def connector_names(kind: str) -> list[str]:
    return sorted(spec.name for spec in CONNECTORS if spec.kind == kind)


def sink_connector(name: str) -> ConnectorSpec | None:
    return next((s for s in CONNECTORS if s.name == name and s.kind == "sink"), None)
