"""The outcome of each delivery as an event: ``nl.gemeente.aflevering.geslaagd`` when a back
office took an event, ``nl.gemeente.aflevering.mislukt`` when it became a dead letter
(contracts/aflevering/v1.py). Decisions only; the delivery worker publishes what this builds.

Published, for each tenant with a route for them (one event per delivery is a cost only a tenant
that uses them should pay), on the outcome's contract topic like any event, so a route sends it
to a back office (an e-forms system that wants to show "your form became zaak Z-2026-0042") or a
monitoring system. Deliveries of outcome events report no outcome of their own: a route from
``nl.gemeente.aflevering`` to a pushed destination would otherwise feed itself for ever.

An outcome is a new fact each time it happens (a redelivery after a crash that succeeds again
is a second success), so its id is new too (UUIDv4), never a duplicate the router would refuse.
Personal data stays out: the back office's error text passes the hub's redaction, and the
public reference is the form's own (``reference``), which the e-forms system shows its users.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from contracts.cloudevents import CloudEvent, source_urn
from contracts.errors import ContractError
from contracts.events import event_key
from contracts.registry import contract_for
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from contracts.registry import ContractSpec

__all__ = [
    "DELIVERED",
    "FAILED",
    "delivered_event",
    "failed_event",
    "reports_outcome",
    "routes_outcomes",
]

DELIVERED = contract_for("nl.gemeente.aflevering.geslaagd", 1)
FAILED = contract_for("nl.gemeente.aflevering.mislukt", 1)
_OUTCOMES = "nl.gemeente.aflevering."
SOURCE_SYSTEM = "knooppunt"
_MAX_REFERENCE = 500
_MAX_PUBLIC_REFERENCE = 64
_MAX_MESSAGE = 2000


def routes_outcomes(contract: str) -> bool:
    """Whether a route for ``contract`` (a type or family prefix) takes outcome events: the
    hub publishes them only for tenants with such a route."""
    return (contract + ".").startswith(_OUTCOMES) or contract.startswith(_OUTCOMES)


def reports_outcome(event: CloudEvent) -> bool:
    """Whether delivering ``event`` reports an outcome: every event but an outcome itself."""
    return not event.type.startswith(_OUTCOMES)


def _common(event: CloudEvent, payload: Any, destination: str, attempts: int) -> dict[str, Any]:
    return {
        "aflevering_id": str(uuid.uuid4()),
        "event_id": event.id[:200],
        "event_type": event.type[:200],
        "event_source": event.source[:300],
        "destination": destination,
        "public_reference": _public_reference(payload),
        "attempts": max(attempts, 1),
    }


def _public_reference(payload: Any) -> str | None:
    """The payload's ``reference`` (a form's public reference), when it has a short one."""
    reference = payload.get("reference") if isinstance(payload, dict) else None
    if isinstance(reference, str) and 0 < len(reference) <= _MAX_PUBLIC_REFERENCE:
        return reference
    return None


def _payload_of(event: CloudEvent) -> Any:
    try:
        return event.payload()
    except ContractError:  # an unreadable payload has no reference to give
        return None


def _outcome(
    spec: ContractSpec, payload: dict[str, Any], event: CloudEvent, oin: str
) -> tuple[CloudEvent, bytes]:
    """The outcome as a CloudEvent of ``spec``, built directly: the payload is the hub's own,
    its shape held to the contract by tests/unit/test_delivery_worker_outcomes.py (validating
    it through pydantic doubled a delivery's CPU)."""
    subject = payload["aflevering_id"]
    outcome = CloudEvent(
        id=subject,
        source=source_urn(oin, SOURCE_SYSTEM),
        type=spec.type,
        tenant=event.tenant,
        subject=subject,
        dataschema=spec.dataschema,
        data=orjson.dumps(payload),
        traceparent=event.traceparent,
    )
    return outcome, event_key(event.tenant, subject)


def _without_personal_data(reference: str) -> str:
    """What a back office returned, fit for an event: a URL without its query and fragment (a
    Location of ``/zaken?bsn=...&email=...`` was passed on whole), BSNs redacted."""
    parts = urlsplit(reference)
    if parts.scheme in ("http", "https") and parts.netloc:
        reference = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return redact_text(reference)


def delivered_event(
    event: CloudEvent,
    oin: str,
    destination: str,
    attempts: int,
    reference: str | None,
    now: datetime,
    payload: Any = None,
) -> tuple[CloudEvent, bytes]:
    """The ``geslaagd`` event (and its record key) for ``event`` delivered to ``destination``
    of the tenant with ``oin``, after ``attempts`` attempts; ``reference`` what the back office
    returned (a zaak URL; a URL's query and fragment left out, BSNs redacted), left out when
    longer than 500 characters; ``payload`` the event's, when already read."""
    shown = _without_personal_data(reference) if reference else None
    read = payload if payload is not None else _payload_of(event)
    outcome = {
        **_common(event, read, destination, attempts),
        "delivered_at": now.isoformat(),
        "reference": shown if shown and len(shown) <= _MAX_REFERENCE else None,
    }
    return _outcome(DELIVERED, outcome, event, oin)


def failed_event(
    event: CloudEvent,
    oin: str,
    destination: str,
    attempts: int,
    error: Exception,
    permanent: bool,
    now: datetime,
) -> tuple[CloudEvent, bytes]:
    """The ``mislukt`` event for ``event`` dead-lettered at ``destination``: the error's class
    and its message, redacted (hub.observability.redaction) and cut at 2,000 characters."""
    outcome = {
        **_common(event, _payload_of(event), destination, attempts),
        "failed_at": now.isoformat(),
        "permanent": permanent,
        "error_class": type(error).__name__[:200],
        "error_message": redact_text(str(error))[:_MAX_MESSAGE] or type(error).__name__,
    }
    return _outcome(FAILED, outcome, event, oin)
