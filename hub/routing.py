"""Which destinations an event goes to: a pure decision, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contracts.events import read_as, version_of
from contracts.registry import contract_for
from hub.errors import ContractError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from contracts.cloudevents import CloudEvent
    from hub.config import HubConfig, Route
    from hub.topics import TopicNames

__all__ = ["RoutingPlan", "destinations_for", "plan_routing", "route_matches"]

_MISSING = object()


def _lookup(payload: Any, dotted: str) -> Any:
    value = payload
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def route_matches(route: Route, tenant: str, event_type: str, payload: Any) -> bool:
    """True when the route is for this tenant and event type and every ``when`` condition holds.

    A route's contract is an event type, or a family prefix that takes all of its types
    (``nl.overheid.zaken`` takes ``nl.overheid.zaken.zaak.create``).

    A condition holds when the payload value at the dotted path equals the expected value, or is
    one of the expected values when a list is given. A missing path never matches.
    """
    if route.tenant != tenant:
        return False
    if route.contract != event_type and not event_type.startswith(route.contract + "."):
        return False
    for path, expected in route.when.items():
        actual = _lookup(payload, path)
        allowed = expected if isinstance(expected, list) else [expected]
        if actual is _MISSING or actual not in allowed:
            return False
    return True


def destinations_for(
    routes: Iterable[Route], tenant: str, event_type: str, payload: Any
) -> list[str]:
    """Every destination of the matching routes, each once, in the order the routes name them."""
    chosen: list[str] = []
    for route in routes:
        if route_matches(route, tenant, event_type, payload):
            chosen.extend(d for d in route.to if d not in chosen)
    return chosen


@dataclass(frozen=True)
class RoutingPlan:
    """What to do with one contract event: copy it to ``destinations``, or dead-letter it."""

    destinations: tuple[str, ...] = ()
    dead_letter: ContractError | None = None

    @property
    def unrouted(self) -> bool:
        return self.dead_letter is None and not self.destinations


def plan_routing(
    config: HubConfig, event: CloudEvent, topic: str, names: TopicNames
) -> RoutingPlan:
    """Decide where an event read from a contract topic goes. Pure: no I/O.

    An event that breaks its contract, names an unknown tenant, or arrived on the wrong contract
    topic is dead-lettered with the reason. A valid one is read as the newest version of its
    contract (older versions upcast), so route conditions are written against one shape, and
    goes to its tenant's matching routes.
    """
    try:
        spec = contract_for(event.type, version_of(event, topic))
        if names.contract(spec) != topic:
            raise ContractError(f"an event of type {event.type} does not belong on {topic}", "type")
        if config.tenant(event.tenant) is None:
            raise ContractError(f"unknown tenant {event.tenant!r}", "ce_tenant")
        model = read_as(event, contract_for(event.type), topic)
    except ContractError as error:
        return RoutingPlan(dead_letter=error)
    payload = model.model_dump(mode="json", by_alias=True)
    found = destinations_for(config.routes_of(event.tenant), event.tenant, event.type, payload)
    return RoutingPlan(destinations=tuple(found))
