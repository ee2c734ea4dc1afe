"""The configuration reference of every connector, generated from its spec (docs/connectors.md,
written by ``knooppunt connectors docs`` and checked in ``make lint``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

if TYPE_CHECKING:
    from collections.abc import Sequence

    from connectors.sdk.spec import ConnectorSpec

__all__ = ["render_connectors_doc"]


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation).replace("typing.", "")
    for noise in ("pydantic.networks.", "pathlib.", "connectors.sdk.http_auth.", "Annotated"):
        text = text.replace(noise, "")
    return text.replace("|", "or").replace("NoneType", "none")


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"
    if field.default is PydanticUndefined:
        return "required"
    return "none" if field.default is None else f"`{field.default!r}`"


_BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("pattern", "matches"))


def _constraints(field: Any) -> str:
    """``(> 0, <= 120)`` from the field's annotated-types metadata; empty when unconstrained."""
    found = [
        f"{symbol} `{getattr(item, name)}`"
        if name == "pattern"
        else f"{symbol} {getattr(item, name)}"
        for item in field.metadata
        for name, symbol in _BOUNDS
        if getattr(item, name, None) is not None
    ]
    return f" ({', '.join(found)})" if found else ""


def _fields(model: type[BaseModel]) -> list[str]:
    if not model.model_fields:
        return ["No settings."]
    rows = ["| setting | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        meaning = (field.description or "") + _constraints(field)
        meaning = meaning.replace("|", "\\|").replace("\n", " ")
        rows.append(
            f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {meaning} |"
        )
    return rows


def _contracts(spec: ConnectorSpec) -> str:
    patterns = spec.accepts if spec.kind == "sink" else spec.emits
    verb = "Accepts" if spec.kind == "sink" else "Emits"
    names = ", ".join("every contract type" if p == "*" else f"`{p}`" for p in patterns)
    return f"{verb}: {names}."


def _section(spec: ConnectorSpec) -> list[str]:
    lines = [f"## `{spec.name}` ({spec.kind})", "", spec.summary, "", _contracts(spec), ""]
    doc = (spec.config.__doc__ or "").strip()
    if doc:
        lines += [" ".join(doc.split()).replace("``", "`"), ""]
    lines += _fields(spec.config)
    if spec.example:
        example = yaml.safe_dump(dict(spec.example), sort_keys=False).rstrip()
        lines += ["", "Example `settings`:", "", "```yaml", example, "```"]
    folder = _folder(spec)
    lines += ["", f"More: [connectors/{folder}/](../connectors/{folder}/).", ""]
    return lines


def _folder(spec: ConnectorSpec) -> str:
    """The connector's folder under connectors/: its config model's package (a name such as
    ``objects-api`` or ``brp-wijzigingen`` is not a Python package name)."""
    parts = spec.config.__module__.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "connectors" else spec.name


def render_connectors_doc(specs: Sequence[ConnectorSpec]) -> str:
    """docs/connectors.md: one section per connector, in registry order."""
    lines = [
        "# Connectors",
        "",
        "Generated from each connector's spec and config model by `knooppunt connectors docs`;",
        "do not edit by hand (`make lint` checks it is up to date). How to write a connector:",
        "[connectors/README.md](../connectors/README.md).",
        "",
        "| connector | kind | summary |",
        "| --- | --- | --- |",
        *(f"| [`{s.name}`](#{s.name}-{s.kind}) | {s.kind} | {s.summary} |" for s in specs),
        "",
    ]
    for spec in specs:
        lines += _section(spec)
    return "\n".join(lines).rstrip() + "\n"
