"""Whether a route condition's path names a field of its contract. A pure check on the payload's
JSON Schema, so that a typo (``form.idd``) is refused when the config is read, naming the
nearest field, instead of a route that silently never matches.

A condition reads the payload the way ``hub.routing.rules`` does: one object member per dotted
part, never into a list. A path is good when some payload of the schema can have a value there:
through declared properties, and anywhere below a free-form mapping (a form's ``values``,
``additionalProperties`` without a schema); under a mapping whose values have a schema
(``kenmerken``: strings), any key, then that schema. It must end at one value to compare: not
at a structured object or a list, which no condition value ever equals.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["condition_path_problem"]

_ANYTHING: dict[str, Any] = {}  # a free-form member: every path below it may exist


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``schema`` with ``$ref`` followed and ``anyOf``/``oneOf``/``allOf`` spread out."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return _resolve(root.get("$defs", {}).get(name, _ANYTHING), root)
    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword in schema:
            return [alt for branch in schema[keyword] for alt in _resolve(branch, root)]
    return [schema]


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind is None and "properties" in schema:
        return "object"
    return str(kind) if kind is not None else "any"


def _member(schema: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The schema of member ``name`` of an object schema; ``_ANYTHING`` below a free-form one;
    None when the object has no such member."""
    properties = schema.get("properties", {})
    if name in properties:
        return properties[name]  # type: ignore[no-any-return]
    extra = schema.get("additionalProperties", not properties)
    if extra is True:
        return _ANYTHING
    if isinstance(extra, dict):
        return extra
    return None


def _fields(schemas: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({name for schema in schemas for name in schema.get("properties", {})})


def _walk(path: str, root: Mapping[str, Any], tests_null: bool) -> str | None:
    """Why ``path`` cannot name a value in a payload of ``root``; None when it can."""
    parts = path.split(".")
    alternatives = _resolve(root, root)
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the payload"
        if any(schema is _ANYTHING or _kind(schema) == "any" for schema in alternatives):
            return None
        objects = [schema for schema in alternatives if _kind(schema) == "object"]
        if not objects:
            kinds = sorted({_kind(schema) for schema in alternatives} - {"null"})
            kind = (
                "a list (a condition cannot look inside one)"
                if "array" in kinds
                else (f"a {' or '.join(kinds)}")
            )
            return f"{where} is {kind}; it has no field {part!r}"
        found = [member for schema in objects if (member := _member(schema, part)) is not None]
        if not found:
            return _unknown(parts, depth, objects)
        alternatives = [alt for member in found for alt in _resolve(member, root)]
    return _end(path, alternatives, tests_null)


def _unknown(parts: list[str], depth: int, objects: Sequence[Mapping[str, Any]]) -> str:
    where = ".".join(parts[:depth])
    fields = _fields(objects)
    near = difflib.get_close_matches(parts[depth], fields, n=1, cutoff=0.5)
    prefix = f"{where}." if where else ""
    if near:
        return f"no field {prefix}{parts[depth]}; did you mean {prefix}{near[0]}?"
    listed = ", ".join(fields) or "(none)"
    return f"no field {prefix}{parts[depth]}; {where or 'the payload'} has: {listed}"


def _end(path: str, alternatives: Sequence[Mapping[str, Any]], tests_null: bool) -> str | None:
    """A condition compares one value: a path that can only end at an object or a list never
    matches, unless it tests for ``null`` where that may be."""
    if tests_null and any(_kind(schema) == "null" for schema in alternatives):
        return None
    real = [schema for schema in alternatives if _kind(schema) != "null"]
    if not real or any(_kind(schema) not in ("object", "array") for schema in real):
        return None
    if any(_kind(schema) == "array" for schema in real):
        return f"{path} is a list; a condition compares one value, and cannot look inside a list"
    fields = _fields(real)
    inside = f" such as {path}.{fields[0]}" if fields else ""
    return f"{path} is an object; a condition compares one value: name a field inside it{inside}"


def condition_path_problem(
    path: str, schemas: Sequence[Mapping[str, Any]], tests_null: bool = False
) -> str | None:
    """None when ``path`` (dotted, as in a route's ``when``) names a value in a payload of at
    least one of ``schemas`` (the newest JSON Schema of each type a route takes); else why not,
    from the first schema, naming the nearest field when there is one. ``tests_null``: the
    condition accepts ``null``, which an optional object or list may be."""
    problems = [_walk(path, schema, tests_null) for schema in schemas]
    if not problems or any(problem is None for problem in problems):
        return None
    return problems[0]
