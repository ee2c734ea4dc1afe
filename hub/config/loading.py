"""Reading hub config YAML, one file or a folder of them (say one per tenant), into a HubConfig.

Every problem is reported at once with the file, line and field it concerns, and what is allowed:
``tenants.yaml:12: tenants[0].oin: must be exactly 20 digits, got '123'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.config.checks import cross_reference_issues
from hub.config.models import HubConfig
from hub.config.yaml_places import Loc, explain, issue_at, read_yaml
from hub.errors import ConfigError, ConfigIssue

__all__ = ["load_config"]

_SECTIONS = ("tenants", "clients", "identity_providers", "routes")


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

    data: dict[str, Any] = field(default_factory=lambda: {s: [] for s in _SECTIONS})
    origin: dict[tuple[str, int], tuple[_Document, int]] = field(default_factory=dict)
    first: _Document | None = None
    issues: list[ConfigIssue] = field(default_factory=list)

    def add(self, doc: _Document) -> None:
        self.first = self.first or doc
        for section in _SECTIONS:
            for local, item in enumerate(doc.data.get(section) or []):
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
        assert self.first is not None
        return self.first.issue(loc, message)


def _read(path: Path) -> _Document:
    data, lines = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigIssue(str(path), 1, "(top level)", "expected a mapping (tenants:, routes:...)")]
        )
    unknown = sorted(set(data) - {*_SECTIONS, "delivery"})
    if unknown:
        doc = _Document(path, data, lines)
        raise ConfigError(
            [doc.issue((name,), "unknown section (check the spelling)") for name in unknown]
        )
    return _Document(path, data, lines)


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise ConfigError([ConfigIssue(str(path), None, "(folder)", "no *.yaml files in it")])
    return files


def load_config(path: Path) -> HubConfig:
    """Read and validate a hub config file, or every *.yaml in a folder merged; ConfigError
    lists every problem with file, line and field."""
    merged = _Merged()
    for file in _files(path):
        merged.add(_read(file))
    if merged.issues:
        raise ConfigError(merged.issues)
    try:
        config = HubConfig.model_validate({**merged.data, "source": path})
    except ValidationError as exc:
        raise ConfigError(
            [merged.issue(tuple(e["loc"]), explain(e)) for e in exc.errors()]
        ) from exc
    problems = cross_reference_issues(config)
    if problems:
        raise ConfigError([merged.issue(loc, message) for loc, message in problems])
    return config
