from __future__ import annotations

import json
import shutil
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from contracts.base import Contract
from contracts.compatibility import breaking_changes
from contracts.formulier import v1
from contracts.registry import CONTRACTS, ContractSpec, contract_for
from contracts.schemas import SNAPSHOT_DIR, check_snapshots


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class Narrow(StrEnum):
    RED = "red"


class Base(Contract):
    id: str
    note: str | None = None
    color: Color = Color.RED


def _schema(model: type[Contract]) -> dict[str, Any]:
    return model.model_json_schema()


def _changes(new: type[Contract]) -> list[str]:
    return [str(c) for c in breaking_changes(_schema(Base), _schema(new))]


def test_adding_or_removing_optional_fields_is_compatible() -> None:
    class Added(Base):
        extra: int | None = None

    class Removed(Contract):
        id: str
        color: Color = Color.RED

    assert _changes(Added) == []
    assert _changes(Removed) == []


def test_a_new_required_field_is_breaking() -> None:
    class Required(Base):
        channel: str

    assert _changes(Required) == ["field 'channel': new required field"]


def test_removing_a_required_field_or_changing_requiredness_is_breaking() -> None:
    class NoId(Contract):
        note: str | None = None
        color: Color = Color.RED

    class OptionalId(Base):
        id: str | None = None  # type: ignore[assignment]

    assert _changes(NoId) == ["field 'id': required field removed"]
    assert "field 'id': became optional" in _changes(OptionalId)


def test_type_enum_and_constraint_changes_are_breaking() -> None:
    class Typed(Base):
        note: int | None = None  # type: ignore[assignment]

    class Narrowed(Base):
        color: Narrow = Narrow.RED  # type: ignore[assignment]

    class Constrained(Base):
        id: str = Field(max_length=10)

    assert _changes(Typed) == [
        "field 'note': type changed from ('null', 'string') to ('integer', 'null')"
    ]
    assert _changes(Narrowed) == ["field 'color': enum narrowed: ['blue'] removed"]
    assert _changes(Constrained) == ["field 'id': maxLength changed from None to 10"]


def test_nested_fields_are_named_by_their_path() -> None:
    old = _schema(v1.FormulierIngediend)
    new = json.loads(json.dumps(old))
    new["$defs"]["Form"]["required"].append("url")
    assert [str(c) for c in breaking_changes(old, new)] == ["field 'form.url': became required"]


def test_the_committed_snapshots_match_the_models() -> None:
    assert check_snapshots() == []


def test_extension_keywords_and_descriptions_are_not_breaking() -> None:
    old = _schema(Base)
    new = json.loads(json.dumps(old))
    new["properties"]["id"] |= {"x-personal-data": "bsn", "description": "now declared"}
    new["properties"]["note"]["anyOf"][0]["x-personal-data"] = "name"
    assert breaking_changes(old, new) == []
    new["properties"]["id"]["maxLength"] = 9  # a real constraint next to it still counts
    assert [str(c) for c in breaking_changes(old, new)] == [
        "field 'id': maxLength changed from None to 9"
    ]


def test_adding_a_required_field_to_published_v1_fails_the_check() -> None:
    class WithChannel(v1.FormulierIngediend):
        channel: str  # a new required field: a v1 producer that does not send it breaks

    published = contract_for("nl.gemeente.formulier.ingediend", 1)
    edited = ContractSpec(
        type=published.type,
        version=1,
        model=WithChannel,
        summary=published.summary,
        example=published.example,
    )
    problems = check_snapshots(SNAPSHOT_DIR, [edited if s is published else s for s in CONTRACTS])
    assert len(problems) == 1
    assert problems[0].startswith(
        "nl.gemeente.formulier.ingediend v1: field 'channel': new required field"
    )
    assert "add v2 with an upcaster instead" in problems[0]


def test_the_cli_check_fails_on_an_edited_copy_naming_contract_and_field(tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(SNAPSHOT_DIR, copy)
    published = copy / "nl.gemeente.brp.persoon-gewijzigd" / "v1.json"
    schema = json.loads(published.read_text())
    del schema["properties"]["volgindicatie_id"]  # as if the model added it as a required field
    schema["required"].remove("geregistreerd_op")  # as if it became required after publication
    published.write_text(json.dumps(schema))
    knooppunt = str(Path(sys.executable).parent / "knooppunt")
    result = subprocess.run(
        [knooppunt, "contracts", "check", "--snapshots", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "nl.gemeente.brp.persoon-gewijzigd v1: field 'geregistreerd_op': became required" in (
        result.stderr
    )
    assert "volgindicatie_id" not in result.stderr  # an added optional field is compatible


def test_a_version_without_snapshot_and_a_removed_version_are_reported(tmp_path: Path) -> None:
    stray = tmp_path / "nl.gemeente.oud" / "v1.json"
    stray.parent.mkdir()
    stray.write_text("{}")
    problems = check_snapshots(tmp_path, [contract_for("nl.gemeente.brp.persoon-gewijzigd", 1)])
    assert problems[0].startswith("nl.gemeente.brp.persoon-gewijzigd v1: no snapshot")
    assert problems[1].startswith("nl.gemeente.oud/v1.json: published, but no longer")
