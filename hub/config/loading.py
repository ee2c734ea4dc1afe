"""Reading hub config YAML, one file or a folder of them (say one per tenant), into a HubConfig.

Every problem is reported at once with the file, line and field it concerns, and what is allowed:
``tenants.yaml:12: tenants[0].oin: must be exactly 20 digits, got '123'``. "At once" means every
stage: a file that cannot be parsed does not hide the others, a tenant with a bad field does
not hide a route's unknown destination, and the checks across fields run over everything that
could be read (an item with a problem stands in with what of it is readable, so nothing is
reported twice and nothing that refers to it is reported as unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from hub.config.checks import cross_reference_issues
from hub.config.environment import environment_issues
from hub.config.models import (
    ApiClient,
    DeliveryPolicy,
    Destination,
    HubConfig,
    IdentityProvider,
    Operator,
    PolledSource,
    Route,
    Tenant,
)
from hub.config.yaml_places import Loc, explain, issue_at, read_yaml
from hub.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = ["check_config", "load_config"]

_SECTIONS = ("tenants", "clients", "operators", "identity_providers", "routes")
_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "tenants": Tenant,
    "clients": ApiClient,
    "operators": Operator,
    "identity_providers": IdentityProvider,
    "routes": Route,
}


@dataclass
class _Document:
    """One YAML file: its data and the line of every path in it."""

    path: Path
    data: dict[str, Any]
    lines: dict[Loc, int]

    def issue(self, loc: Loc, message: str) -> ConfigIssue:
        return issue_at(self.path, self.lines, loc, message)


@dataclass
class _Merged:
    """The documents merged into one config, remembering where each list item came from."""

    source: Path
    data: dict[str, Any] = field(default_factory=lambda: {s: [] for s in _SECTIONS})
    origin: dict[tuple[str, int], tuple[_Document, int]] = field(default_factory=dict)
    first: _Document | None = None
    issues: list[ConfigIssue] = field(default_factory=list)

    def add(self, doc: _Document) -> None:
        self.first = self.first or doc
        for section in _SECTIONS:
            items = doc.data.get(section) or []
            if not isinstance(items, list):
                self.issues.append(doc.issue((section,), "must be a list (each item after '- ')"))
                continue
            for local, item in enumerate(items):
                self.origin[(section, len(self.data[section]))] = (doc, local)
                self.data[section].append(item)
        if "delivery" in doc.data:
            earlier = self.origin.get(("delivery", 0))
            if earlier is not None:  # one policy for the installation: never a silent winner
                first = earlier[0]
                line = first.lines.get(("delivery",))
                where = f"{first.path.name}:{line}" if line else first.path.name
                self.issues.append(
                    doc.issue(("delivery",), f"delivery is set in {where} already; set it once")
                )
                return
            self.data["delivery"] = doc.data["delivery"]
            self.origin[("delivery", 0)] = (doc, 0)

    def issue(self, loc: Loc, message: str) -> ConfigIssue:
        """Translate a location in the merged config back to its file and local index."""
        if len(loc) >= 2 and isinstance(loc[1], int) and (str(loc[0]), loc[1]) in self.origin:
            doc, local = self.origin[(str(loc[0]), loc[1])]
            return doc.issue((loc[0], local, *loc[2:]), message)
        if loc and loc[0] == "delivery" and ("delivery", 0) in self.origin:
            return self.origin[("delivery", 0)][0].issue(loc, message)
        if self.first is None:
            return ConfigIssue(str(self.source), None, ".".join(map(str, loc)), message)
        return self.first.issue(loc, message)


def _read(path: Path) -> tuple[_Document | None, list[ConfigIssue]]:
    """One file, and what is wrong with it as a whole (its sections are checked later)."""
    try:
        data, lines = read_yaml(path)
    except ConfigError as exc:  # unreadable, not UTF-8, not YAML: nothing of it to check
        return None, exc.issues
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem = "expected a mapping (tenants:, routes:...)"
        return None, [ConfigIssue(str(path), 1, "(top level)", problem)]
    doc = _Document(path, data, lines)
    unknown = sorted(set(data) - {*_SECTIONS, "delivery"}, key=str)
    return doc, [doc.issue((name,), "unknown section (check the spelling)") for name in unknown]


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise ConfigError([ConfigIssue(str(path), None, "(folder)", "no *.yaml files in it")])
    return files


def _problems(merged: _Merged, loc: Loc, exc: ValidationError) -> list[ConfigIssue]:
    return [merged.issue((*loc, *e["loc"]), explain(e)) for e in exc.errors()]


def _valid(model: type[BaseModel], raw: object) -> BaseModel | None:
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def _text(raw: object, key: str) -> Any:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _list(raw: object, key: str) -> list[Any]:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, list) else []


def _stand_in_destination(raw: object, model: type[Destination | PolledSource]) -> BaseModel:
    """A destination (or source) as the checks across fields see it: itself when valid, else
    its name only: no connector, so nothing about it is checked or reported twice."""
    valid = _valid(model, raw)
    if valid is not None:
        return valid
    return model.model_construct(name=_text(raw, "name"), connector="", settings={})


def _stand_in(section: str, raw: object) -> BaseModel:
    """An item with a problem (already reported), as the checks across fields see it: what of
    it is readable (a tenant's id and its valid destinations; a route's tenant, contract,
    conditions and destinations), the rest None or empty. Checks skip what is missing."""
    if section == "tenants":
        readable: dict[str, Any] = {
            "id": _id(raw),
            "destinations": [
                _stand_in_destination(d, Destination) for d in _list(raw, "destinations")
            ],
            "sources": [_stand_in_destination(s, PolledSource) for s in _list(raw, "sources")],
        }
        return Tenant.model_construct(**readable)
    if section == "routes":
        when = raw.get("when") if isinstance(raw, dict) else None
        versions = _list(raw, "versions")
        readable = {
            "tenant": _text(raw, "tenant"),
            "contract": _text(raw, "contract"),
            "versions": [v for v in versions if isinstance(v, int) and not isinstance(v, bool)],
            "when": {str(k): v for k, v in when.items()} if isinstance(when, dict) else {},
            "to": [name for name in _list(raw, "to") if isinstance(name, str)],
        }
        return Route.model_construct(**readable)
    return _ITEM_MODELS[section].model_construct()


def _id(raw: object) -> str | None:
    """A tenant's id as a route names it: ``1234`` written without quotes is still ``1234``."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


@dataclass
class _Items:
    """Every item of every section: validated, or a stand-in (``partial``) when it had a
    problem; positions are those of the merged config, so issues find their lines."""

    sections: dict[str, list[Any]] = field(default_factory=dict)
    partial: set[tuple[str, int]] = field(default_factory=set)
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    issues: list[ConfigIssue] = field(default_factory=list)


def _validate_items(merged: _Merged) -> _Items:
    """Validate each item on its own, so one item's problem never hides another's."""
    items = _Items()
    for section, model in _ITEM_MODELS.items():
        kept: list[Any] = []
        for i, raw in enumerate(merged.data[section]):
            try:
                kept.append(model.model_validate(raw))
            except ValidationError as exc:
                items.issues += _problems(merged, (section, i), exc)
                items.partial.add((section, i))
                kept.append(_stand_in(section, raw))
        items.sections[section] = kept
    if "delivery" in merged.data:
        try:
            items.delivery = DeliveryPolicy.model_validate(merged.data["delivery"])
        except ValidationError as exc:
            items.issues += _problems(merged, ("delivery",), exc)
    return items


def _read_config(path: Path) -> tuple[HubConfig, list[ConfigIssue], set[tuple[str, int]]]:
    """A hub config file, or every *.yaml in a folder merged, as far as it can be read; every
    problem found in it, each with file, line and field; and the items that had one. Without
    problems the config is fully validated; with problems, items that have one stand in with
    what of them is readable (for the checks that follow, never to run a hub with)."""
    merged = _Merged(path)
    issues: list[ConfigIssue] = []
    config: HubConfig
    for file in _files(path):
        doc, problems = _read(file)
        issues += problems
        if doc is not None:
            merged.add(doc)
    issues += merged.issues
    items = _validate_items(merged)
    if not merged.data["tenants"] and not issues:  # (a file that could not be read may have some)
        issues.append(merged.issue(("tenants",), "name at least one tenant"))
    issues += items.issues
    readable: dict[str, Any] = {**items.sections, "delivery": items.delivery, "source": path}
    if issues:
        config = HubConfig.model_construct(**readable)
    else:
        try:
            config = HubConfig.model_validate({**merged.data, "source": path})
        except ValidationError as exc:  # each item passed: only the whole can fail here
            issues += _problems(merged, (), exc)
            config = HubConfig.model_construct(**readable)
    issues += [
        merged.issue(loc, message) for loc, message in cross_reference_issues(config, items.partial)
    ]
    config.locate_with(merged.issue)
    return config, issues, items.partial


def load_config(path: Path) -> HubConfig:
    """Read and validate a hub config file, or every *.yaml in a folder merged; ConfigError
    lists every problem with file, line and field."""
    config, issues, _ = _read_config(path)
    if issues:
        raise ConfigError(_in_file_order(issues))
    return config


def check_config(path: Path, environ: Mapping[str, str], secrets: bool = True) -> HubConfig:
    """``load_config``, and everything else ``knooppunt run`` needs before it connects: the
    secrets and files the config names (hub.config.environment; without ``secrets``, the
    environment variables and secret files are not looked at). ConfigError lists every problem
    of every kind at once, each with file, line and field."""
    config, issues, partial = _read_config(path)
    issues += environment_issues(config, environ, partial, secrets)
    if issues:
        raise ConfigError(_in_file_order(issues))
    return config


def _in_file_order(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """As an editor meets them: by file, then line (each stage found its own in turn)."""
    return sorted(issues, key=lambda issue: (issue.file, issue.line or 0))
