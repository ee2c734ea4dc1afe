"""Every connector, named once. Adding a connector is one folder plus one line here."""

from __future__ import annotations

from connectors import (
    brp_update,
    eformulieren,
    email,
    notifynl,
    nrc_callback,
    objects_api,
    stuf_zds,
    topic,
    webhook,
    zgw,
)
from connectors.sdk import ConnectorSpec, SinkSpec, SourceSpec

__all__ = [
    "CONNECTORS",
    "connector_names",
    "polling_connector_names",
    "sink_connector",
    "source_connector",
]

CONNECTORS: tuple[ConnectorSpec, ...] = (
    brp_update.VOLGINDICATIES,
    brp_update.WIJZIGINGEN,
    eformulieren.SPEC,
    email.SPEC,
    notifynl.SPEC,
    nrc_callback.SPEC,
    objects_api.SPEC,
    stuf_zds.SPEC,
    topic.SPEC,
    webhook.SPEC,
    zgw.SPEC,
)


def connector_names(kind: str) -> list[str]:
    return sorted(spec.name for spec in CONNECTORS if spec.kind == kind)


def polling_connector_names() -> list[str]:
    """The source connectors the hub polls (their spec has ``poll``)."""
    return sorted(s.name for s in CONNECTORS if isinstance(s, SourceSpec) and s.poll is not None)


def sink_connector(name: str) -> SinkSpec | None:
    return next((s for s in CONNECTORS if s.name == name and isinstance(s, SinkSpec)), None)


def source_connector(name: str) -> SourceSpec | None:
    return next((s for s in CONNECTORS if s.name == name and isinstance(s, SourceSpec)), None)
