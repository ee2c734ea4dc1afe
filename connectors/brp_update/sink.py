"""The ``brp-volgindicaties`` sink: follow the person a form submission is about, so the
``brp-wijzigingen`` poller reports their BRP changes (``PUT /volgindicaties/{bsn}``, BRP Update
API 1.0, operation UpsertVolgindicatie).

The volgindicatie ends ``dagen`` days after the submission (its CloudEvents ``time``, Dutch
date). It is looked up first (``GET /volgindicaties/{bsn}``) and only ever lengthened: a
redelivered or replayed older submission never shortens a follow a later one set, and an
einddatum that has passed is never sent (the API reads an einddatum of today as "end it now").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from connectors.brp_update.changes import DUTCH_TIME
from connectors.brp_update.client import missing_secret, update_client
from connectors.sdk import (
    DEFAULT_MAX_IN_FLIGHT,
    Delivered,
    Health,
    HttpError,
    HttpResponse,
    Permanent,
    SecretMissingError,
)
from connectors.sdk.http import answer_or_failure
from contracts.errors import ContractError, KnooppuntError
from contracts.events import read_as
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.brp_update.config import VolgindicatiesConfig
    from connectors.sdk import ConnectorContext, Delivery, Outcome

__all__ = ["VolgindicatiesSink", "build", "einddatum_to_send"]

SUBMISSION = contract_for("nl.gemeente.formulier.ingediend", 2)
FOLLOWED = "followed"  # the reference a delivery reports: never the BSN


def einddatum_to_send(
    wanted: date | None, existing: dict[str, Any] | None, today: date
) -> tuple[bool, date | None]:
    """Whether to PUT, and the einddatum to send (None: follow without end). Nothing is sent
    when ``wanted`` has passed, or the follow in place lasts as long or longer. ``existing`` is
    the API's volgindicatie (``einddatum``: an ISO date, or absent for none), None if none."""
    if wanted is not None and wanted <= today:
        return False, None
    active, current = _active_end(existing, today)
    if not active:
        return True, wanted
    if current is None:  # followed without end: nothing lasts longer
        return False, None
    lengthens = wanted is None or wanted > current
    return lengthens, wanted if lengthens else None


def _active_end(existing: dict[str, Any] | None, today: date) -> tuple[bool, date | None]:
    """Whether a follow is active, and its end (None: without end)."""
    if existing is None:
        return False, None
    text = existing.get("einddatum")
    if not isinstance(text, str):
        return True, None
    try:
        end = date.fromisoformat(text)
    except ValueError:
        return False, None  # unreadable: send ours, the API keeps what it is told
    return end > today, end


class VolgindicatiesSink:
    """A ``Sink``: one GET and at most one PUT per submission with a BSN. Built without the
    secret ``auth`` names, it raises KnooppuntError naming it: the hub refuses to start."""

    max_in_flight = DEFAULT_MAX_IN_FLIGHT

    def __init__(self, config: VolgindicatiesConfig, context: ConnectorContext) -> None:
        missing = missing_secret(config, context)
        if missing:
            raise KnooppuntError(
                f"tenant {context.tenant.id}, destination {context.destination}: {missing}"
            )
        self.config = config
        self._client = update_client(config, context)

    async def open(self) -> None:
        """Nothing to prepare: connections are made on the first delivery."""

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            submission = read_as(delivery.event, SUBMISSION)
        except ContractError as exc:
            return Permanent(f"not a readable form submission: {exc}")
        subject = submission.authentication.legal_subject  # type: ignore[attr-defined]
        if subject is None or subject.type != "bsn":
            return Delivered({FOLLOWED: "no citizen to follow"})
        url = f"{self.config.base()}/volgindicaties/{subject.value}"
        today = datetime.now(DUTCH_TIME).date()
        existing = await answer_or_failure(self._client.get(url), "auth")
        if not isinstance(existing, HttpResponse) and existing.code != "404":
            return existing
        found = _json_object(existing) if isinstance(existing, HttpResponse) else None
        send, end = einddatum_to_send(self._wanted_end(delivery), found, today)
        if not send:
            return Delivered({FOLLOWED: "already followed as long"})
        body = orjson.dumps({} if end is None else {"einddatum": str(end)})
        answer = await answer_or_failure(
            self._client.put(url, body=body, headers={"Content-Type": "application/json"}),
            "auth",
        )
        if not isinstance(answer, HttpResponse):
            return answer
        return Delivered({FOLLOWED: f"until {end}" if end else "without end"})

    def _wanted_end(self, delivery: Delivery) -> date | None:
        if self.config.dagen is None:
            return None
        submitted = delivery.event.time.astimezone(DUTCH_TIME).date()
        return submitted + timedelta(days=self.config.dagen)

    async def check(self) -> Health:
        """GET /volgindicaties: any HTTP answer means the API is reachable."""
        try:
            response = await self._client.get(f"{self.config.base()}/volgindicaties")
        except (HttpError, SecretMissingError) as exc:
            return Health(ok=False, detail=f"{self.config.url.host}: {type(exc).__name__}")
        return Health(ok=True, detail=f"{self.config.url.host} answered {response.status}")

    async def close(self) -> None:
        await self._client.aclose()


def _json_object(response: HttpResponse) -> dict[str, Any] | None:
    try:
        document = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def build(config: VolgindicatiesConfig, context: ConnectorContext) -> VolgindicatiesSink:
    """The factory named in the connector's SPEC."""
    return VolgindicatiesSink(config, context)
