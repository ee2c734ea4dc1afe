"""FULL compatibility between two JSON Schemas of one contract version. Pure functions.

Within a major version a change must be both backward compatible (a new consumer reads old
events) and forward compatible (an old consumer reads new events): only optional fields may be
added or removed. Everything else is breaking: a new required field, a field that changes from
required to optional or back, a changed type, a changed enum (narrowed *or* widened: our own
consumer models are strict about enums), a changed constraint (pattern, length, bounds, format).

Only the keywords above are compared: annotations such as ``description`` and extension keywords
(``x-personal-data``) say something about a field without changing what is valid on the wire, so
declaring a field personal data never needs a new major nor a rewritten snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BreakingChange", "breaking_changes"]

Schema = dict[str, Any]
_CONSTRAINTS = (
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "const",
)


@dataclass(frozen=True)
class BreakingChange:
    field: str
    message: str

    def __str__(self) -> str:
        return f"field '{self.field}': {self.message}"


def breaking_changes(old: Schema, new: Schema) -> list[BreakingChange]:
    """Every breaking change from ``old`` to ``new`` (pydantic-style schemas with ``$defs``)."""
    return _Comparison(old, new).compare(old, new, "")


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.roots = (old_root, new_root)

    def _resolve(self, node: Schema, side: int) -> Schema:
        seen = 0
        while "$ref" in node and seen < 50:  # follow local refs: #/$defs/Name
            name = node["$ref"].rsplit("/", 1)[-1]
            node = {
                **self.roots[side].get("$defs", {}).get(name, {}),
                **{k: v for k, v in node.items() if k != "$ref"},
            }
            seen += 1
        return node

    def compare(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        old, new = self._resolve(old, 0), self._resolve(new, 1)
        changes: list[BreakingChange] = []
        where = path or "(root)"
        if _types(old) != _types(new):
            return [BreakingChange(where, f"type changed from {_types(old)} to {_types(new)}")]
        if "anyOf" in old or "anyOf" in new:
            for old_branch, new_branch in zip(
                old.get("anyOf", []), new.get("anyOf", []), strict=False
            ):
                changes += self.compare(old_branch, new_branch, path)
            return changes
        changes += _enum_changes(old, new, where)
        changes += [
            BreakingChange(where, f"{key} changed from {old.get(key)!r} to {new.get(key)!r}")
            for key in _CONSTRAINTS
            if old.get(key) != new.get(key)
        ]
        if "properties" in old or "properties" in new:
            changes += self._properties(old, new, path)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            changes += self.compare(old["items"], new["items"], f"{path}[]")
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            changes += self.compare(old_extra, new_extra, f"{path}.*" if path else "*")
        return changes

    def _properties(self, old: Schema, new: Schema, path: str) -> list[BreakingChange]:
        changes: list[BreakingChange] = []
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(set(old_props) | set(new_props)):
            field = f"{path}.{name}" if path else name
            if name not in new_props:
                if name in old_req:
                    changes.append(BreakingChange(field, "required field removed"))
            elif name not in old_props:
                if name in new_req:
                    changes.append(BreakingChange(field, "new required field"))
            else:
                if (name in old_req) != (name in new_req):
                    became = "required" if name in new_req else "optional"
                    changes.append(BreakingChange(field, f"became {became}"))
                changes += self.compare(old_props[name], new_props[name], field)
        return changes


def _types(node: Schema) -> tuple[str, ...]:
    if "anyOf" in node:
        return tuple(sorted(t for branch in node["anyOf"] for t in _types(branch)))
    kind = node.get("type")
    if kind is None:
        return ("object",) if "properties" in node else ("any",)
    return tuple(sorted(kind)) if isinstance(kind, list) else (kind,)


def _enum_changes(old: Schema, new: Schema, where: str) -> list[BreakingChange]:
    if "enum" not in old and "enum" not in new:
        return []
    before, after = set(old.get("enum", [])), set(new.get("enum", []))
    changes = []
    if before - after:
        changes.append(BreakingChange(where, f"enum narrowed: {sorted(before - after)} removed"))
    if after - before:
        changes.append(BreakingChange(where, f"enum widened: {sorted(after - before)} added"))
    return changes
