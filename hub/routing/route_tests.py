"""Route tests: prove a hub config's routes with YAML cases before they go live. No Kafka.

A route test file names a hub config and a list of cases. Each case builds one event of its
contract (the contract version's example with the case's ``payload`` deep-merged onto it), runs
it through ``hub.routing.rules.plan_routing`` exactly as the router would, and checks the
destinations it reached. The file format is described in docs/routes.md.

``load_route_tests`` reads and validates a file; ``run_case`` and ``judge`` are pure decisions;
``run_route_tests`` ties them together and returns a ``RouteTestReport``. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import CONTRACTS, ContractSpec, contract_for
from hub.config import load_config
from hub.config.yaml_places import explain, issue_at, read_yaml
from hub.errors import ConfigError, ConfigIssue, ContractError
from hub.kafka.topics import TopicNames
from hub.routing.rules import plan_routing

if TYPE_CHECKING:
    from contracts.cloudevents import CloudEvent
    from hub.config import HubConfig
    from hub.routing.rules import RoutingPlan

__all__ = [
    "CaseResult",
    "Outcome",
    "PlacedCase",
    "RouteTestCase",
    "RouteTestReport",
    "RouteTestSuite",
    "case_event",
    "judge",
    "load_route_tests",
    "merge_payload",
    "run_case",
    "run_route_tests",
]

SOURCE_SYSTEM = "route-test"  # the CloudEvents source system of every test event

Outcome = Literal["passed", "failed", "invalid"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RouteTestCase(_Strict):
    """One event and where it must, or must not, go.

    ``expect`` names exactly the destinations (order ignored; ``[]`` = matches no route);
    ``reaches`` and ``not_reaches`` check only the names they give. A case has ``expect``, or
    ``reaches`` and/or ``not_reaches``, never both kinds.
    """

    name: str = Field(min_length=1)
    tenant: str = Field(pattern=r"^[0-9]{4}$", description="The tenant the event is for ('0363').")
    contract: str = Field(min_length=1, description="An event type, or a family's full type.")
    version: int | None = Field(None, ge=1, description="Produced under; default the newest.")
    payload: dict[str, Any] = Field(
        default_factory=dict, description="Deep-merged onto the contract version's example."
    )
    expect: list[str] | None = None
    reaches: list[str] = Field(default_factory=list)
    not_reaches: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks_something(self) -> RouteTestCase:
        partial = bool(self.reaches or self.not_reaches)
        if self.expect is None and not partial:
            raise ValueError("give expect, or reaches and/or not_reaches")
        if self.expect is not None and partial:
            raise ValueError("give expect (exactly these) or reaches/not_reaches, not both")
        both = sorted(set(self.reaches) & set(self.not_reaches))
        if both:
            raise ValueError(f"{', '.join(both)} in both reaches and not_reaches")
        return self


class _RouteTestFile(_Strict):
    config: Path | None = Field(None, description="The hub config, relative to this file.")
    cases: list[RouteTestCase] = Field(min_length=1)


@dataclass(frozen=True)
class PlacedCase:
    """A case and where it is written: ``where`` is ``file:line``, for messages."""

    case: RouteTestCase
    where: str


@dataclass(frozen=True)
class RouteTestSuite:
    """A validated route test file. ``config`` is resolved against the file's folder; None when
    the file names none (then the caller must give one)."""

    path: Path
    config: Path | None
    cases: tuple[PlacedCase, ...]


@dataclass(frozen=True)
class CaseResult:
    """What one case showed: ``explanation`` is one line (what it reached, or what went wrong)."""

    name: str
    where: str
    outcome: Outcome
    explanation: str
    destinations: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteTestReport:
    """Every case's result, in file order, and the config they ran against."""

    file: Path
    config: Path
    results: tuple[CaseResult, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)


# --- reading the file ---------------------------------------------------------------------------


def load_route_tests(path: Path) -> RouteTestSuite:
    """Read and validate a route test file; ConfigError lists every problem with file, line and
    field (unknown fields, a case without expectations, duplicate names, a missing config)."""
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError([issue_at(path, lines, (), "expected a mapping with config: and cases:")])
    try:
        parsed = _RouteTestFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [issue_at(path, lines, tuple(e["loc"]), explain(e)) for e in exc.errors()]
        ) from exc
    issues = [
        issue_at(path, lines, ("cases", i, "name"), f"duplicate case name {case.name!r}")
        for i, case in enumerate(parsed.cases)
        if case.name in [c.name for c in parsed.cases[:i]]
    ]
    config = None if parsed.config is None else path.parent / parsed.config
    if config is not None and not config.exists():
        issues.append(issue_at(path, lines, ("config",), f"no such file or folder: {config}"))
    if issues:
        raise ConfigError(issues)
    placed = tuple(
        PlacedCase(case, f"{path}:{lines.get(('cases', i), 1)}")
        for i, case in enumerate(parsed.cases)
    )
    return RouteTestSuite(path, config, placed)


# --- running a case (pure) ----------------------------------------------------------------------


def merge_payload(example: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` deep-merged onto ``example``: mappings merge key by key; anything else (a
    value, a list, null) replaces what the example has. Neither argument is changed."""
    merged = dict(example)
    for key, value in overrides.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_payload(base, value)
        else:
            merged[key] = value
    return merged


def _spec_for(contract: str, version: int | None) -> ContractSpec:
    """The spec a case's event is produced under; ContractError naming ``contract`` or
    ``version`` when there is none."""
    matching = [s for s in CONTRACTS if s.type == contract or s.accepts(contract)]
    if not matching:
        known = ", ".join(sorted({s.type for s in CONTRACTS}))
        raise ContractError(f"unknown contract {contract!r}; known: {known}", "contract")
    published = sorted({s.version for s in matching})
    if version is not None and version not in published:
        raise ContractError(
            f"{contract} has no version {version}; published: {published}", "version"
        )
    family = [s for s in matching if s.family and s.type == contract]
    if family:  # a family's prefix: contract_for wants a member's full type
        chosen = version if version is not None else published[-1]
        return next(s for s in family if s.version == chosen)
    return contract_for(contract, version)


def case_event(config: HubConfig, case: RouteTestCase) -> tuple[CloudEvent, ContractSpec]:
    """The event a case describes, as an e-forms system or Open Zaak would produce it, and the
    spec it was produced under. ContractError names the case's field that prevents it:
    ``tenant``, ``contract``, ``version`` or ``payload.<path>``."""
    tenant = config.tenant(case.tenant)
    if tenant is None:
        known = ", ".join(t.id for t in config.tenants)
        raise ContractError(f"unknown tenant {case.tenant!r}; known: {known}", "tenant")
    spec = _spec_for(case.contract, case.version)
    payload = merge_payload(spec.example, case.payload)
    try:
        event, _key = build_event(
            spec, payload, tenant=tenant.id, source=source_urn(tenant.oin, SOURCE_SYSTEM)
        )
    except ContractError as error:
        message = str(error).removeprefix(f"{error.field}: ")
        raise ContractError(message, f"payload.{error.field or 'data'}") from error
    if case.contract not in (spec.type, event.type):
        raise ContractError(
            f"the payload makes an event of type {event.type}, not {case.contract}: "
            "set resource and actie in payload",
            "contract",
        )
    return event, spec


def _names(destinations: list[str] | tuple[str, ...]) -> str:
    return f"[{', '.join(sorted(destinations))}]"


def judge(case: RouteTestCase, plan: RoutingPlan) -> tuple[Outcome, str]:
    """Whether the routing plan meets the case's expectations, with a one-line explanation.

    A dead-lettered event fails whatever the case expects: it reaches no destination, and an
    operator has to act on it.
    """
    got = plan.destinations
    if plan.dead_letter is not None:
        return "failed", f"dead-lettered instead of routed: {plan.dead_letter}"
    got_text = _names(got) + (" (matched no route)" if not got else "")
    if case.expect is not None:
        if set(case.expect) == set(got):
            return "passed", f"reached {got_text}"
        missing = [d for d in case.expect if d not in got]
        extra = [d for d in got if d not in case.expect]
        detail = [f"missing {', '.join(missing)}"] if missing else []
        detail += [f"unexpected {', '.join(extra)}"] if extra else []
        return "failed", f"expected {_names(case.expect)}, got {got_text}: {'; '.join(detail)}"
    problems = []
    missing = [d for d in case.reaches if d not in got]
    if missing:
        problems.append(f"did not reach {', '.join(missing)}")
    forbidden = [d for d in case.not_reaches if d in got]
    if forbidden:
        problems.append(f"reached {', '.join(forbidden)}, which it must not")
    if problems:
        return "failed", f"{'; '.join(problems)} (got {got_text})"
    return "passed", f"reached {got_text}"


def _destination_problem(config: HubConfig, case: RouteTestCase) -> str | None:
    """A destination the case names that its tenant does not have: such a check could never
    fail (``not_reaches``) or never pass (``expect``), so it is a mistake in the case."""
    tenant = config.tenant(case.tenant)
    if tenant is None:
        return None  # reported by case_event, with the known tenants
    has = ", ".join(d.name for d in tenant.destinations) or "(none)"
    for field, names in (
        ("expect", case.expect or []),
        ("reaches", case.reaches),
        ("not_reaches", case.not_reaches),
    ):
        unknown = [name for name in names if tenant.destination(name) is None]
        if unknown:
            missing = ", ".join(repr(name) for name in unknown)
            return f"{field}: tenant {tenant.id} has no destination {missing}; it has: {has}"
    return None


def run_case(config: HubConfig, placed: PlacedCase) -> CaseResult:
    """Route one case's event as the router would, and judge it. Pure: no I/O, no Kafka.

    A case that cannot make a valid event (unknown tenant or contract, a payload its contract
    refuses, a destination its tenant lacks) is ``invalid``, explained with the field at fault.
    """
    case = placed.case
    names = TopicNames()
    try:
        event, spec = case_event(config, case)
    except ContractError as error:
        return CaseResult(case.name, placed.where, "invalid", str(error))
    problem = _destination_problem(config, case)
    if problem is not None:
        return CaseResult(case.name, placed.where, "invalid", problem)
    plan = plan_routing(config, event, names.contract(spec), names)
    outcome, explanation = judge(case, plan)
    return CaseResult(case.name, placed.where, outcome, explanation, plan.destinations)


def run_route_tests(path: Path, config: Path | None = None) -> RouteTestReport:
    """Run every case of a route test file against a hub config: ``config`` when given, else
    the one the file names. ConfigError when the file or the hub config is refused."""
    suite = load_route_tests(path)
    config_path = config or suite.config
    if config_path is None:
        raise ConfigError(
            [ConfigIssue(str(path), None, "config", "name the hub config here, or give --config")]
        )
    hub_config = load_config(config_path)
    results = tuple(run_case(hub_config, placed) for placed in suite.cases)
    return RouteTestReport(path, config_path, results)
