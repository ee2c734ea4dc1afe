"""Which destinations an event goes to: a pure decision, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from contracts.events import payload_as, version_of
from contracts.registry import contract_for
from hub.errors import ContractError, UnroutedError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from contracts.cloudevents import CloudEvent
    from hub.config import HubConfig, Route, Tenant
    from hub.kafka.topics import TopicNames

__all__ = [
    "RoutableEvent",
    "RoutingPlan",
    "RoutingTable",
    "TenantRoutes",
    "destinations_for",
    "json_equal",
    "plan_routing",
    "route_matches",
]

_MISSING = object()


def json_equal(actual: Any, expected: Any) -> bool:
    """Equality of two JSON values by JSON type (RFC 8259 §3): ``null`` equals only ``null``, a
    boolean only a boolean, a number only a number (by value: ``1`` and ``1.0`` are one number),
    a string only a string. Python's ``1 == True`` never leaks into routing."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected
    return False


def _lookup(payload: Any, dotted: str) -> Any:
    value = payload
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


@dataclass(frozen=True)
class RoutableEvent:
    """What routing looks at: tenant, type, the version it was produced under, the payload
    (as the contract's newest version)."""

    tenant: str
    type: str
    version: int
    payload: Any


def route_matches(route: Route, event: RoutableEvent) -> bool:
    """True when the route is for this tenant, type and version and every condition holds.

    A route's contract is an event type, or a family prefix that takes all of its types
    (``nl.overheid.zaken`` takes ``nl.overheid.zaken.zaak.create``); ``versions``, when given,
    limits it to events produced under those versions.

    A condition holds when the payload value at the dotted path equals the expected value, or is
    one of the expected values when a list is given, compared by JSON type (``json_equal``:
    ``true`` never matches ``1``). A missing path never matches.
    """
    if route.tenant != event.tenant:
        return False
    if route.contract != event.type and not event.type.startswith(route.contract + "."):
        return False
    if route.versions and event.version not in route.versions:
        return False
    for path, expected in route.when.items():
        actual = _lookup(event.payload, path)
        allowed = expected if isinstance(expected, list) else [expected]
        if actual is _MISSING or not any(json_equal(actual, value) for value in allowed):
            return False
    return True


def destinations_for(routes: Iterable[Route], event: RoutableEvent) -> list[str]:
    """Every destination of the matching routes, each once, in the order the routes name them."""
    chosen: list[str] = []
    for route in routes:
        if route_matches(route, event):
            chosen.extend(d for d in route.to if d not in chosen)
    return chosen


@dataclass(frozen=True)
class RoutingPlan:
    """What to do with one contract event: copy it to ``destinations``, or dead-letter it."""

    destinations: tuple[str, ...] = ()
    dead_letter: ContractError | UnroutedError | None = None

    @property
    def unrouted(self) -> bool:
        return self.dead_letter is None and not self.destinations


class TenantRoutes(Protocol):
    """What routing reads of a config: ``HubConfig`` itself, or a ``RoutingTable`` of it."""

    def tenant(self, tenant_id: str) -> Tenant | None: ...

    def routes_of(self, tenant_id: str) -> list[Route]: ...


class RoutingTable:
    """A config's tenants and routes indexed by tenant id: what the router asks for every
    record, in one dict lookup instead of a scan of every tenant and route (340 tenants, 1,020
    routes). The config is frozen, so the index never goes stale."""

    def __init__(self, config: HubConfig) -> None:
        self._tenants = {tenant.id: tenant for tenant in config.tenants}
        self._routes: dict[str, list[Route]] = {}
        for route in config.routes:
            self._routes.setdefault(route.tenant, []).append(route)

    def tenant(self, tenant_id: str) -> Tenant | None:
        return self._tenants.get(tenant_id)

    def routes_of(self, tenant_id: str) -> list[Route]:
        return self._routes.get(tenant_id, [])


# Destinations made at runtime for a tenant's event (abonnementen: hub.notificaties), given the
# tenant, the event type and the payload read as its contract's newest version.
Subscriptions = Callable[[str, str, Any], tuple[str, ...]]


def plan_routing(
    config: TenantRoutes,
    event: CloudEvent,
    topic: str,
    names: TopicNames,
    subscriptions: Subscriptions | None = None,
) -> RoutingPlan:
    """Decide where an event read from a contract topic goes. Pure: no I/O.

    An event that breaks its contract, names an unknown tenant, or arrived on the wrong contract
    topic is dead-lettered with the reason. A valid one is read as the newest version of its
    contract (older versions upcast), so route conditions are written against one shape, and
    goes to its tenant's matching routes.
    """
    try:
        version = version_of(event, topic)
        spec = contract_for(event.type, version)
        if names.contract(spec) != topic:
            raise ContractError(f"an event of type {event.type} does not belong on {topic}", "type")
        tenant = config.tenant(event.tenant)
        if tenant is None:
            raise ContractError(f"unknown tenant {event.tenant!r}", "ce_tenant")
        payload = payload_as(event, contract_for(event.type), topic)
    except ContractError as error:
        return RoutingPlan(dead_letter=error)
    routable = RoutableEvent(event.tenant, event.type, version, payload)
    found = destinations_for(config.routes_of(event.tenant), routable)
    if subscriptions is not None:
        found += [
            name for name in subscriptions(event.tenant, event.type, payload) if name not in found
        ]
    if not found and tenant.unrouted == "dead-letter":
        return RoutingPlan(dead_letter=UnroutedError(f"no route of tenant {tenant.id} matches"))
    return RoutingPlan(destinations=tuple(found))
