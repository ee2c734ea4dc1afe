"""The hub's declarative config: tenants, their destinations, API clients and routes (YAML).

``load_config`` refuses a file with a ``ConfigError`` that lists every problem with its file,
line, field path and what is allowed, before anything connects to Kafka.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connectors.registry import connector_names, sink_connector
from contracts.registry import CONTRACTS, is_known_type
from hub.errors import ConfigError, ConfigIssue

__all__ = ["ApiClient", "Destination", "HubConfig", "Route", "Tenant", "load_config"]

_NAME = r"^[a-z][a-z0-9-]{0,39}$"
Loc = tuple[str | int, ...]
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Destination(_Strict):
    """A back office of one tenant, reached through one sink connector."""

    name: str = Field(pattern=_NAME, description="Lowercase name, unique within the tenant.")
    connector: str = Field(description="Sink connector that delivers to it, e.g. 'topic'.")
    settings: dict[str, Any] = Field(default_factory=dict, description="The connector's config.")

    @field_validator("connector")
    @classmethod
    def _known_connector(cls, value: str) -> str:
        if sink_connector(value) is None:
            raise ValueError(f"unknown connector; known: {', '.join(connector_names('sink'))}")
        return value


class Tenant(_Strict):
    """A municipality, identified by its CBS gemeentecode."""

    id: str = Field(pattern=r"^\d{4}$", description="CBS gemeentecode, four digits ('0363').")
    name: str = Field(min_length=1)
    oin: str = Field(
        pattern=r"^\d{20}$", description="Organisatie-identificatienummer (20 digits)."
    )
    rsin: str = Field(pattern=r"^\d{9}$", description="RSIN (9 digits).")
    destinations: list[Destination] = Field(default_factory=list)

    def destination(self, name: str) -> Destination | None:
        return next((d for d in self.destinations if d.name == name), None)


class ApiClient(_Strict):
    """A system allowed to call the HTTP API (ZGW-style JWT), bound to the tenants it acts for.

    The secret is never in YAML: name an environment variable or a file (relative to the config).
    """

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    secret_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    secret_file: Path | None = None
    tenants: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_secret_reference(self) -> ApiClient:
        if (self.secret_env is None) == (self.secret_file is None):
            raise ValueError("give exactly one of secret_env or secret_file")
        return self


class Route(_Strict):
    """Events of ``contract`` for ``tenant`` that match ``when`` go to each of ``to``.

    ``when`` maps a dotted payload path (``form.id``) to the value, or list of values, it must have.
    """

    tenant: str
    contract: str = Field(
        description="An event type, or a family prefix such as nl.overheid.zaken for all its types."
    )
    when: dict[str, str | int | bool | list[str | int | bool]] = Field(default_factory=dict)
    to: list[str] = Field(min_length=1)


class HubConfig(_Strict):
    tenants: list[Tenant] = Field(min_length=1)
    clients: list[ApiClient] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    source: Path = Field(Path("<memory>"), exclude=True)

    def tenant(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self.tenants if t.id == tenant_id), None)

    def client(self, client_id: str) -> ApiClient | None:
        return next((c for c in self.clients if c.id == client_id), None)

    def routes_of(self, tenant_id: str) -> list[Route]:
        return [r for r in self.routes if r.tenant == tenant_id]


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
        issues.extend(
            (("tenants", i, "destinations", j, "name"), f"duplicate destination {name!r}")
            for j, name in enumerate(names)
            if name in names[:j]
        )
    return issues


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
        has = ", ".join(d.name for d in tenant.destinations) or "(none)"
        issues.extend(
            (
                ("routes", i, "to", j),
                f"tenant {tenant.id} has no destination {name!r}; it has: {has}",
            )
            for j, name in enumerate(route.to)
            if tenant.destination(name) is None
        )
    return issues


def client_secret(config: HubConfig, client: ApiClient) -> str:
    """Read a client's secret from its environment variable or file; ConfigError if absent."""
    index = config.clients.index(client)
    if client.secret_env is not None:
        value = os.environ.get(client.secret_env, "")
        field, problem = "secret_env", f"environment variable {client.secret_env} is not set"
    else:
        assert client.secret_file is not None  # guaranteed by ApiClient's validator
        path = client.secret_file
        if not path.is_absolute():
            path = config.source.parent / path
        value = path.read_text().strip() if path.is_file() else ""
        field, problem = "secret_file", f"file {path} does not exist or is empty"
    if value and len(value.encode()) < MIN_SECRET_BYTES:
        problem = (
            f"the secret is {len(value.encode())} bytes; HS256 needs at least {MIN_SECRET_BYTES}"
        )
    elif value:
        return value
    raise ConfigError([ConfigIssue(str(config.source), None, f"clients[{index}].{field}", problem)])


def _line_index(node: yaml.Node, loc: Loc = ()) -> dict[Loc, int]:
    """Map every path in a composed YAML document to its 1-based line."""
    lines = {loc: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines.update(_line_index(value, (*loc, key.value)))
            lines[(*loc, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*loc, i)))
    return lines


def _line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _read_yaml(path: Path) -> tuple[Any, dict[Loc, int]]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), None, "(file)", f"cannot read: {exc.strerror}")]
        ) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError([ConfigIssue(str(path), line, "(syntax)", str(exc.problem))]) from exc
    return data, (_line_index(node) if node is not None else {})


def load_config(path: Path) -> HubConfig:
    """Read and validate a hub config file; ConfigError lists every problem with file and line."""
    data, lines = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigIssue(str(path), 1, "(top level)", "expected a mapping with tenants")]
        )
    try:
        config = HubConfig.model_validate({**data, "source": path})
    except ValidationError as exc:
        issues = [
            ConfigIssue(
                str(path),
                _line_of(lines, error["loc"]),
                _dotted(error["loc"]),
                _explain(error),
            )
            for error in exc.errors()
        ]
        raise ConfigError(issues) from exc
    problems = cross_reference_issues(config)
    if problems:
        raise ConfigError(
            [
                ConfigIssue(str(path), _line_of(lines, loc), _dotted(loc), msg)
                for loc, msg in problems
            ]
        )
    return config


def _explain(error: Any) -> str:
    """Pydantic's message, with the allowed pattern spelled out where it helps."""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "string_type" and isinstance(error.get("input"), int):
        return "must be text: quote it ('0363'), YAML reads bare digits as a number"
    if error["type"] == "extra_forbidden":
        return "unknown field (check the spelling)"
    if error["type"] == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        digits = re.fullmatch(r"\^\\d\{(\d+)\}\$", pattern)
        got = error.get("input")
        return f"must be exactly {digits.group(1)} digits, got {got!r}" if digits else message
    return message
