"""The objecttype version's JSON Schema, as the sink uses it: at start, does the mapping fit it;
per delivery, does the mapped data. Plain functions on the schema (no I/O).

The Objects API validates ``record.data`` with ``jsonschema.validate(data, jsonSchema)``
(Open Objecten, ``objects.core.utils.check_objecttype``): the draft the schema names in
``$schema`` (else the newest), without format assertions. The sink validates the same way, so
what it sends is what the API takes. Messages name fields and the rule, never a value: a
jsonschema message quotes the value (``'AB-123-C' is not of type 'integer'``), so it is not used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jsonschema.protocols import Validator

__all__ = ["data_problem", "mapping_problems", "validator"]


def validator(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` (its own draft). ValueError naming the place in the schema
    when it is no valid JSON Schema."""
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise ValueError(f"the jsonSchema is not a valid JSON Schema (at {where})") from None
    return cls(schema)


def _properties(node: Any) -> dict[str, Any] | None:
    properties = node.get("properties") if isinstance(node, dict) else None
    return properties if isinstance(properties, dict) else None


def _required(node: Any) -> list[str]:
    required = node.get("required") if isinstance(node, dict) else None
    return [name for name in required or [] if isinstance(name, str)]


def _field(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The subschema of the data field at dotted ``path``, or None when the schema has none."""
    node: Any = schema
    for part in path.split("."):
        properties = _properties(node)
        if properties is None or part not in properties:
            return None
        node = properties[part]
    return node if isinstance(node, dict) else {}


def _takes_strings(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind is None or kind == "string" or (isinstance(kind, list) and "string" in kind)


def mapping_problems(
    schema: dict[str, Any], targets: Iterable[str], idempotency_field: str
) -> list[str]:
    """What is wrong with mapping to ``targets`` (dotted data paths) and the idempotency field
    under ``schema``, one sentence per field, each starting with the setting that names it
    (``data.<path>`` or ``idempotency_field``); empty when it fits.

    A field must be declared (``properties``, at every level of its path); every field a level
    ``required`` that the mapping enters (the top level always) must be mapped; the idempotency
    field must take strings. Fields behind ``$ref``, ``allOf`` and the like are not followed:
    declare such a field under ``properties`` to map to it.
    """
    targets = list(targets)
    problems = [
        f"data.{path}: the schema has no such field"
        for path in targets
        if _field(schema, path) is None
    ]
    idempotency = _field(schema, idempotency_field)
    if idempotency is None:
        problems.append(f"idempotency_field: the schema has no field {idempotency_field!r}")
    elif not _takes_strings(idempotency):
        problems.append(f"idempotency_field: {idempotency_field!r} does not take a string")
    mapped = {*targets, idempotency_field}
    entered = {""} | {
        ".".join(path.split(".")[:depth])
        for path in mapped
        for depth in range(1, path.count(".") + 1)
    }
    for level in sorted(entered):
        node = schema if not level else _field(schema, level)
        for name in _required(node):
            path = f"{level}.{name}" if level else name
            if path not in mapped and not any(m.startswith(path + ".") for m in mapped):
                problems.append(f"data.{path}: required by the schema, not mapped")
    return problems


def data_problem(check: Validator, data: dict[str, Any]) -> str | None:
    """The first place where ``data`` breaks the schema, as ``data.<path>: <rule>`` (the JSON
    Schema keyword, for ``required`` the missing field's path), or None when it fits."""
    errors = sorted(check.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return None
    error = errors[0]
    path = ".".join(str(p) for p in error.absolute_path)
    required = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict):
        names = required if isinstance(required, list) else []
        missing = [n for n in names if n not in error.instance]
        if missing:
            where = f"{path}.{missing[0]}" if path else str(missing[0])
            return f"data.{where}: required, and the submission has no value for it"
    return f"data.{path or '(root)'}: does not fit the schema ({error.validator})"
