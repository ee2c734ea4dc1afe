"""Producing and consuming contract events: validation at the edge and upcasting. Pure: no I/O.

``build_event`` refuses a payload that breaks its contract before anything reaches Kafka;
``read_as`` gives a consumer the version it was written for, upcasting older events;
``payload_as`` the same as JSON values, for a reader that only looks (the router).
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contracts.cloudevents import CloudEvent
from contracts.errors import ContractError
from contracts.registry import ContractSpec, versions_of

if TYPE_CHECKING:
    from contracts.base import Contract

__all__ = ["build_event", "event_key", "payload_as", "read_as", "version_of"]

JsonObject = dict[str, Any]  # a payload as JSON values

_SCHEMA_VERSION = re.compile(r":v([0-9]+)$")
_TOPIC_VERSION = re.compile(r"\.v([0-9]+)$")


def event_key(tenant: str, ordering_key: str) -> bytes:
    """Record key ``<tenant>:<id>``: keeps order per submission or zaak, never a BSN."""
    return f"{tenant}:{ordering_key}".encode()


def build_event(
    spec: ContractSpec,
    payload: object,
    *,
    tenant: str,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> tuple[CloudEvent, bytes]:
    """A valid payload as a CloudEvent of ``spec`` and its record key; ContractError otherwise."""
    model = spec.validate(payload, mode="produce")
    event = CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=spec.event_type_of(model),
        tenant=tenant,
        subject=model.event_subject(),
        dataschema=spec.dataschema,
        data=model.model_dump_json(by_alias=True).encode(),
        traceparent=traceparent,
    )
    if time is not None:
        event = replace(event, time=time)
    return event, event_key(tenant, model.ordering_key())


def version_of(event: CloudEvent, topic: str | None = None) -> int:
    """The contract version an event was produced under: from ``dataschema``, else the topic."""
    for text, pattern in ((event.dataschema, _SCHEMA_VERSION), (topic, _TOPIC_VERSION)):
        match = pattern.search(text or "")
        if match:
            return int(match.group(1))
    raise ContractError(
        "no version: neither ce_dataschema nor the topic names one", "ce_dataschema"
    )


@functools.lru_cache(maxsize=1024)  # bounded: event types come from records
def _chain(event_type: str) -> dict[int, ContractSpec]:
    return {spec.version: spec for spec in versions_of(event_type)}


def read_as(event: CloudEvent, wanted: ContractSpec, topic: str | None = None) -> Contract:
    """The event's payload as version ``wanted.version``, upcast from older versions.

    Raises ContractError when the event is of another type, newer than ``wanted``, or invalid
    under the version it was produced with.
    """
    produced, model = _read_produced(event, wanted, topic)
    if produced == wanted.version:
        return model
    return wanted.validate(_upcast(event.type, model, produced, wanted.version), mode="consume")


def payload_as(event: CloudEvent, wanted: ContractSpec, topic: str | None = None) -> JsonObject:
    """As ``read_as``, but the payload as JSON values (``model_dump(mode="json", by_alias=True)``
    of ``wanted``'s model), for a reader that only looks (the router's conditions).

    The event is validated under the version it was produced with; an upcast payload is not
    validated again: every upcaster turns each valid payload of its previous version into a
    valid one of its own that validation leaves as it is (tests/unit/test_upcasters.py proves
    it by property), so the second validation only cost time (a third of the router's
    decision, docs/design.md).
    """
    produced, model = _read_produced(event, wanted, topic)
    if produced == wanted.version:
        return model.model_dump(mode="json", by_alias=True)
    return _upcast(event.type, model, produced, wanted.version)


def _read_produced(
    event: CloudEvent, wanted: ContractSpec, topic: str | None
) -> tuple[int, Contract]:
    """The version the event was produced under and its payload validated under it."""
    if not wanted.accepts(event.type):
        raise ContractError(f"an event of type {event.type} is not {wanted.type}", "type")
    produced = version_of(event, topic)
    if produced > wanted.version:
        raise ContractError(
            f"the event is v{produced}; this consumer reads v{wanted.version} and "
            "events are never downcast",
            "ce_dataschema",
        )
    chain = _chain(event.type)
    if produced not in chain:
        raise ContractError(f"unknown contract {event.type} version {produced}", "ce_dataschema")
    return produced, chain[produced].validate(event.payload(), mode="consume")


def _upcast(event_type: str, model: Contract, produced: int, wanted: int) -> JsonObject:
    """``model`` (valid under ``produced``) as JSON values of version ``wanted``."""
    chain = _chain(event_type)
    payload: JsonObject = model.model_dump(mode="json", by_alias=True)
    for version in range(produced + 1, wanted + 1):
        upcast = chain[version].upcast_from_previous
        if upcast is None:
            raise ContractError(f"no upcaster to v{version} of {event_type}", "ce_dataschema")
        payload = upcast(payload)
    return payload
