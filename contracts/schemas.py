"""JSON Schema snapshots of every published contract version, and the check against them.

Snapshots live in ``contracts/schemas/<type>/v<N>.json`` and are committed: they are what was
published. ``check_snapshots`` fails, naming contract and field, when a model drifted from its
snapshot in a way that is not FULL compatible, when a version has no snapshot, or when a
published version disappeared from the registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.compatibility import breaking_changes
from contracts.registry import CONTRACTS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from contracts.registry import ContractSpec

__all__ = ["SNAPSHOT_DIR", "check_snapshots", "schema_of", "write_schemas"]

SNAPSHOT_DIR = Path(__file__).resolve().parent / "schemas"


def schema_of(spec: ContractSpec) -> dict[str, Any]:
    """The JSON Schema a producer of ``spec`` must satisfy (field names as on the wire)."""
    schema = spec.model.model_json_schema(by_alias=True, mode="validation")
    schema["$id"] = spec.dataschema
    return schema


def _path(root: Path, spec: ContractSpec) -> Path:
    return root / spec.type / f"v{spec.version}.json"


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(
    root: Path, specs: Iterable[ContractSpec] = CONTRACTS, overwrite: bool = True
) -> list[Path]:
    """Write each version's schema under ``root``; with ``overwrite=False`` only missing ones
    (publishing a new version never rewrites what was published). Returns the files written."""
    written = []
    for spec in specs:
        path = _path(root, spec)
        if path.exists() and not overwrite:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(schema_of(spec)))
        written.append(path)
    return written


def check_snapshots(
    root: Path = SNAPSHOT_DIR, specs: Iterable[ContractSpec] = CONTRACTS
) -> list[str]:
    """Every problem, one sentence each naming the contract (and field); empty when all is well."""
    specs = list(specs)
    problems: list[str] = []
    for spec in specs:
        path = _path(root, spec)
        name = f"{spec.type} v{spec.version}"
        if not path.is_file():
            problems.append(
                f"{name}: no snapshot at {path}; publish it with 'knooppunt contracts snapshot'"
            )
            continue
        published = json.loads(path.read_text())
        problems += [
            f"{name}: {change} (within a major version only optional fields may be added or "
            f"removed; add v{spec.version + 1} with an upcaster instead)"
            for change in breaking_changes(published, schema_of(spec))
        ]
    registered = {_path(root, spec) for spec in specs}
    problems += [
        f"{path.relative_to(root)}: published, but no longer in contracts/registry.py "
        "(a published version is never removed)"
        for path in sorted(root.glob("*/v*.json"))
        if path not in registered
    ]
    return problems
