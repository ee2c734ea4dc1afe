"""The outcome of each delivery as an event: ``nl.gemeente.aflevering.geslaagd`` when a back
office took an event, ``nl.gemeente.aflevering.mislukt`` when it became a dead letter
(contracts/aflevering/v1.py). Decisions only; the delivery worker publishes what this builds.

Published on the outcome's contract topic like any event, so a route can send it to a back
office (an e-forms system that wants to show "your form became zaak Z-2026-0042") or a
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

from contracts.cloudevents import source_urn
from contracts.errors import ContractError
from contracts.events import build_event
from contracts.registry import contract_for
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from contracts.cloudevents import CloudEvent

__all__ = ["DELIVERED", "FAILED", "delivered_event", "failed_event", "reports_outcome"]

DELIVERED = contract_for("nl.gemeente.aflevering.geslaagd", 1)
FAILED = contract_for("nl.gemeente.aflevering.mislukt", 1)
_OUTCOMES = "nl.gemeente.aflevering."
SOURCE_SYSTEM = "knooppunt"
_MAX_REFERENCE = 500
_MAX_PUBLIC_REFERENCE = 64
_MAX_MESSAGE = 2000


def reports_outcome(event: CloudEvent) -> bool:
    """Whether delivering ``event`` reports an outcome: every event but an outcome itself."""
    return not event.type.startswith(_OUTCOMES)


def _common(event: CloudEvent, destination: str, attempts: int) -> dict[str, Any]:
    return {
        "aflevering_id": str(uuid.uuid4()),
        "event_id": event.id[:200],
        "event_type": event.type[:200],
        "event_source": event.source[:300],
        "destination": destination,
        "public_reference": _public_reference(event),
        "attempts": max(attempts, 1),
    }


def _public_reference(event: CloudEvent) -> str | None:
    """The payload's ``reference`` (a form's public reference), when it has a short one."""
    try:
        payload = event.payload()
    except ContractError:  # an unreadable payload has no reference to give
        return None
    reference = payload.get("reference") if isinstance(payload, dict) else None
    if isinstance(reference, str) and 0 < len(reference) <= _MAX_PUBLIC_REFERENCE:
        return reference
    return None


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
) -> tuple[CloudEvent, bytes]:
    """The ``geslaagd`` event (and its record key) for ``event`` delivered to ``destination``
    of the tenant with ``oin``, after ``attempts`` attempts; ``reference`` what the back office
    returned (a zaak URL; a URL's query and fragment left out, BSNs redacted), left out when
    longer than 500 characters."""
    shown = _without_personal_data(reference) if reference else None
    payload = {
        **_common(event, destination, attempts),
        "delivered_at": now.isoformat(),
        "reference": shown if shown and len(shown) <= _MAX_REFERENCE else None,
    }
    return build_event(
        DELIVERED,
        payload,
        tenant=event.tenant,
        source=source_urn(oin, SOURCE_SYSTEM),
        traceparent=event.traceparent,
    )


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
    payload = {
        **_common(event, destination, attempts),
        "failed_at": now.isoformat(),
        "permanent": permanent,
        "error_class": type(error).__name__[:200],
        "error_message": redact_text(str(error))[:_MAX_MESSAGE] or type(error).__name__,
    }
    return build_event(
        FAILED,
        payload,
        tenant=event.tenant,
        source=source_urn(oin, SOURCE_SYSTEM),
        traceparent=event.traceparent,
    )
