"""Checks across fields of a hub config: duplicates, references to things that do not exist,
each destination's connector settings, whether a route's destinations' sinks accept its contract
type, route condition paths against the contract's fields, and conditions on personal data.
Pure functions returning (location, message) pairs."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from connectors.registry import sink_connector, source_connector
from contracts.personal_data import personal_data_at, personal_data_paths
from contracts.registry import CONTRACTS, is_known_type, versions_of
from hub.config.conditions import condition_path_problem
from hub.config.yaml_places import Loc

if TYPE_CHECKING:
    from collections.abc import Collection

    from contracts.registry import ContractSpec
    from hub.config.models import HubConfig, PolledSource, Route, Tenant

__all__ = ["Loc", "cross_reference_issues"]


def cross_reference_issues(
    config: HubConfig, partial: Collection[tuple[str, int]] = ()
) -> list[tuple[Loc, str]]:
    """What single fields cannot show: duplicates and references to things that do not exist.

    ``partial``: the items (``("tenants", 0)``) that had a problem of their own, already
    reported; they stand in with what of them could be read, and only that is checked."""
    return [
        *_tenant_issues(config, partial),
        *_client_issues(config, partial),
        *_operator_issues(config, partial),
        *_route_issues(config, partial),
    ]


def _known_tenants(config: HubConfig) -> str:
    return ", ".join(t.id for t in config.tenants)


def _tenant_issues(
    config: HubConfig, partial: Collection[tuple[str, int]]
) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for i, tenant in enumerate(config.tenants):
        if tenant.id is not None and tenant.id in [t.id for t in config.tenants[:i]]:
            issues.append((("tenants", i, "id"), f"duplicate tenant {tenant.id!r}"))
        names = [d.name for d in tenant.destinations]
        for j, destination in enumerate(tenant.destinations):
            loc: Loc = ("tenants", i, "destinations", j)
            if destination.name is not None and destination.name in names[:j]:
                issues.append(((*loc, "name"), f"duplicate destination {destination.name!r}"))
            issues += _settings_issues(destination.connector, destination.settings, loc)
            if ("tenants", i) in partial:
                continue  # its registries (brp, kvk, bag) may be the part that was unreadable
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
        if source.name is not None and source.name in names[:j]:
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


def _client_issues(
    config: HubConfig, partial: Collection[tuple[str, int]]
) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for i, client in enumerate(config.clients):
        if ("clients", i) in partial:
            continue
        if client.id in [getattr(c, "id", None) for c in config.clients[:i]]:
            issues.append((("clients", i, "id"), f"duplicate client {client.id!r}"))
        issues.extend(
            (("clients", i, "tenants", j), f"unknown tenant {t!r}; known: {_known_tenants(config)}")
            for j, t in enumerate(client.tenants)
            if config.tenant(t) is None
        )
    return issues


def _operator_issues(
    config: HubConfig, partial: Collection[tuple[str, int]]
) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for i, operator in enumerate(config.operators):
        if ("operators", i) in partial:
            continue
        if operator.id in [getattr(o, "id", None) for o in config.operators[:i]]:
            issues.append((("operators", i, "id"), f"duplicate operator {operator.id!r}"))
        if isinstance(operator.tenants, list):
            issues.extend(
                (
                    ("operators", i, "tenants", j),
                    f"unknown tenant {t!r}; known: {_known_tenants(config)}",
                )
                for j, t in enumerate(operator.tenants)
                if config.tenant(t) is None
            )
    return issues


@functools.cache
def _payload_schema(contract: str, version: int) -> dict[str, Any]:
    spec = next(s for s in CONTRACTS if (s.type, s.version) == (contract, version))
    return spec.model.model_json_schema()


def _newest_versions(contract: str) -> list[ContractSpec]:
    """The newest version of each type a route's ``contract`` (a type or family) takes: the
    shape its conditions are matched against (older events are upcast first)."""
    newest: dict[str, ContractSpec] = {}
    for spec in CONTRACTS:
        takes = spec.type == contract or spec.accepts(contract)
        if takes and (spec.type not in newest or newest[spec.type].version < spec.version):
            newest[spec.type] = spec
    return list(newest.values())


def _condition_issues(route: Route, index: int) -> list[tuple[Loc, str]]:
    """Each ``when`` path must name a field of the contract (its newest version), or lie below
    a free-form one (a form's ``values``): a typo would make the route match nothing, silently.
    And it may not name a field any version of the contract declares personal data (or one
    inside it): the config file would then hold a BSN, a name, an address."""
    declared = {
        path: kind
        for spec in CONTRACTS
        if spec.type == route.contract or spec.accepts(route.contract)
        for path, kind in personal_data_paths(spec).items()
    }
    specs = _newest_versions(route.contract)
    schemas = [_payload_schema(spec.type, spec.version) for spec in specs]
    named = ", ".join(f"{spec.type} v{spec.version}" for spec in specs)
    issues: list[tuple[Loc, str]] = []
    for path, expected in route.when.items():
        loc: Loc = ("routes", index, "when", path)
        tests_null = expected is None or (isinstance(expected, list) and None in expected)
        if (kind := personal_data_at(path, declared)) is not None:
            issues.append(
                (
                    loc,
                    f"a route may not test personal data ({kind}); route on the form or the "
                    "case instead",
                )
            )
        elif (problem := condition_path_problem(path, schemas, tests_null)) is not None:
            issues.append((loc, f"{problem} (contract {named})"))
    return issues


def _route_issues(config: HubConfig, partial: Collection[tuple[str, int]]) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for i, route in enumerate(config.routes):
        # A route with a problem of its own stands in with the fields that could be read.
        tenant = config.tenant(route.tenant) if route.tenant is not None else None
        if tenant is None and route.tenant is not None:
            known = _known_tenants(config)
            issues.append(
                (("routes", i, "tenant"), f"unknown tenant {route.tenant!r}; known: {known}")
            )
        if route.contract is not None:
            issues += _contract_issues(route, i)
        if tenant is not None:
            issues += _destination_issues(route, i, tenant)
    return issues


def _contract_issues(route: Route, i: int) -> list[tuple[Loc, str]]:
    """The route's contract, its versions and its conditions."""
    if not is_known_type(route.contract):
        known = ", ".join(sorted({spec.type for spec in CONTRACTS}))
        return [(("routes", i, "contract"), f"unknown contract {route.contract!r}; known: {known}")]
    published = {s.version for s in CONTRACTS if s.type == route.contract} or {
        s.version for s in versions_of(route.contract)
    }
    return [
        *(
            (("routes", i, "versions", j), f"no version {v}; published: {sorted(published)}")
            for j, v in enumerate(route.versions)
            if v not in published
        ),
        *_condition_issues(route, i),
    ]


def _destination_issues(route: Route, i: int, tenant: Tenant) -> list[tuple[Loc, str]]:
    """Each of ``to`` is a destination of the tenant whose sink accepts the route's contract."""
    issues: list[tuple[Loc, str]] = []
    has = ", ".join(d.name for d in tenant.destinations if d.name) or "(none)"
    for j, name in enumerate(route.to):
        destination = tenant.destination(name)
        if destination is None:
            issues.append(
                (
                    ("routes", i, "to", j),
                    f"tenant {tenant.id} has no destination {name!r}; it has: {has}",
                )
            )
        elif route.contract is not None and (
            refusal := _acceptance_issue(destination.connector, name, route.contract)
        ):
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
