"""Every connector, named once. Adding a connector is one folder plus one line here."""

from __future__ import annotations

from connectors import eformulieren, topic, webhook
from connectors.sdk import ConnectorSpec, SinkSpec, SourceSpec

__all__ = ["CONNECTORS", "connector_names", "sink_connector", "source_connector"]

CONNECTORS: tuple[ConnectorSpec, ...] = (eformulieren.SPEC, topic.SPEC, webhook.SPEC)


def connector_names(kind: str) -> list[str]:
    return sorted(spec.name for spec in CONNECTORS if spec.kind == kind)


def sink_connector(name: str) -> SinkSpec | None:
    return next((s for s in CONNECTORS if s.name == name and isinstance(s, SinkSpec)), None)


def source_connector(name: str) -> SourceSpec | None:
    return next((s for s in CONNECTORS if s.name == name and isinstance(s, SourceSpec)), None)
