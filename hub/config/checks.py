"""Checks across fields of a hub config: duplicates, references to things that do not exist,
each destination's connector settings, whether a route's destinations' sinks accept its contract
type, and route conditions on personal data. Pure functions returning (location, message) pairs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from connectors.registry import sink_connector, source_connector
from contracts.personal_data import personal_data_at, personal_data_paths
from contracts.registry import CONTRACTS, is_known_type, versions_of
from hub.config.yaml_places import Loc

if TYPE_CHECKING:
    from hub.config.models import HubConfig, PolledSource, Route

__all__ = ["Loc", "cross_reference_issues"]


def cross_reference_issues(config: HubConfig) -> list[tuple[Loc, str]]:
    """What single fields cannot show: duplicates and references to things that do not exist."""
    return [*_tenant_issues(config), *_client_issues(config), *_route_issues(config)]


def _known_tenants(config: HubConfig) -> str:
    return ", ".join(t.id for t in config.tenants)


def _tenant_issues(config: HubConfig) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for i, tenant in enumerate(config.tenants):
        if tenant.id in [t.id for t in config.tenants[:i]]:
            issues.append((("tenants", i, "id"), f"duplicate tenant {tenant.id!r}"))
        names = [d.name for d in tenant.destinations]
        for j, destination in enumerate(tenant.destinations):
            loc: Loc = ("tenants", i, "destinations", j)
            if destination.name in names[:j]:
                issues.append(((*loc, "name"), f"duplicate destination {destination.name!r}"))
            issues += _settings_issues(destination.connector, destination.settings, loc)
            enrich = destination.enrich
            for registry, wanted, api in (
                ("brp", enrich is not None and enrich.brp is not None, tenant.brp),
                ("kvk", enrich is not None and enrich.kvk, tenant.kvk),
                ("bag", enrich is not None and enrich.bag is not None, tenant.bag),
            ):
                if wanted and api is None:
                    issues.append(
                        (
                            (*loc, "enrich", registry),
                            f"the tenant has no {registry}: (its API) to ask",
                        )
                    )
            spec = sink_connector(destination.connector)
            if destination.enrich is not None and (spec is None or not spec.pushes):
                issues.append(
                    ((*loc, "enrich"), "only copies the hub delivers are enriched (not a topic)")
                )
        issues += _source_issues(tenant.sources, i)
    return issues


def _source_issues(sources: list[PolledSource], tenant: int) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    names = [source.name for source in sources]
    for j, source in enumerate(sources):
        loc: Loc = ("tenants", tenant, "sources", j)
        if source.name in names[:j]:
            issues.append(((*loc, "name"), f"duplicate source {source.name!r}"))
        issues += _settings_issues(source.connector, source.settings, loc, kind="source")
    return issues


def _settings_issues(
    connector: str, settings: dict[str, object], loc: Loc, kind: str = "sink"
) -> list[tuple[Loc, str]]:
    spec = sink_connector(connector) if kind == "sink" else source_connector(connector)
    if spec is None:  # already reported on the connector field itself
        return []
    try:
        spec.config.model_validate(settings)
    except ValidationError as exc:
        return [
            ((*loc, "settings", *error["loc"]), str(error["msg"]).removeprefix("Value error, "))
            for error in exc.errors()
        ]
    return []


def _client_issues(config: HubConfig) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for i, client in enumerate(config.clients):
        if client.id in [c.id for c in config.clients[:i]]:
            issues.append((("clients", i, "id"), f"duplicate client {client.id!r}"))
        issues.extend(
            (("clients", i, "tenants", j), f"unknown tenant {t!r}; known: {_known_tenants(config)}")
            for j, t in enumerate(client.tenants)
            if config.tenant(t) is None
        )
    return issues


def _personal_condition_issues(route: Route, index: int) -> list[tuple[Loc, str]]:
    """A ``when`` may not name a field any version of the route's contract declares personal
    data (or one inside it): the config file would then hold a BSN, a name, an address."""
    declared = {
        path: kind
        for spec in CONTRACTS
        if spec.type == route.contract or spec.accepts(route.contract)
        for path, kind in personal_data_paths(spec).items()
    }
    return [
        (
            ("routes", index, "when", path),
            f"a route may not test personal data ({kind}); route on the form or the case instead",
        )
        for path in route.when
        if (kind := personal_data_at(path, declared)) is not None
    ]


def _route_issues(config: HubConfig) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for i, route in enumerate(config.routes):
        tenant = config.tenant(route.tenant)
        if tenant is None:
            known = _known_tenants(config)
            issues.append(
                (("routes", i, "tenant"), f"unknown tenant {route.tenant!r}; known: {known}")
            )
            continue
        if not is_known_type(route.contract):
            known = ", ".join(sorted({spec.type for spec in CONTRACTS}))
            issues.append(
                (("routes", i, "contract"), f"unknown contract {route.contract!r}; known: {known}")
            )
        else:
            published = {s.version for s in CONTRACTS if s.type == route.contract} or {
                s.version for s in versions_of(route.contract)
            }
            issues.extend(
                (("routes", i, "versions", j), f"no version {v}; published: {sorted(published)}")
                for j, v in enumerate(route.versions)
                if v not in published
            )
            issues += _personal_condition_issues(route, i)
        has = ", ".join(d.name for d in tenant.destinations) or "(none)"
        for j, name in enumerate(route.to):
            destination = tenant.destination(name)
            if destination is None:
                issues.append(
                    (
                        ("routes", i, "to", j),
                        f"tenant {tenant.id} has no destination {name!r}; it has: {has}",
                    )
                )
            elif refusal := _acceptance_issue(destination.connector, name, route.contract):
                issues.append((("routes", i, "to", j), refusal))
    return issues


def _acceptance_issue(connector: str, destination: str, contract: str) -> str | None:
    """Why ``destination``'s sink cannot take ``contract`` events, or None when it can."""
    spec = sink_connector(connector)
    if spec is None or spec.accepts_contract(contract):
        return None
    return (
        f"destination {destination!r} (connector {connector}) does not accept {contract}; "
        f"it accepts: {', '.join(spec.accepts)}"
    )
