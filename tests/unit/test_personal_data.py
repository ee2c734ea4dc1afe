"""The personal-data declaration: the path finder, and that no contract forgets a field."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from contracts.personal_data import (
    SCHEMA_KEYWORD,
    PersonalData,
    PersonalDataKind,
    path_segments,
    personal_data_at,
    personal_data_paths,
)
from contracts.registry import CONTRACTS, ContractSpec, contract_for
from contracts.schemas import schema_of

Kind = PersonalDataKind

# A field whose name suggests personal data must be declared (or hold a declared field).
SUGGESTS_PERSONAL = re.compile(
    r"bsn|kvk|naam|name|adres|address|straat|postcode|woonplaats|mail|telefoon|phone|mobiel"
    r"|geboorte|birth|pseudo|subject|ontvanger|recipient|personalisatie|iban"
)
# ...unless it is listed here, with the reason it is not personal data.
NOT_PERSONAL = {
    ("nl.gemeente.formulier.ingediend", "form.name"): "the form's display name",
}


class _Address(BaseModel):
    street: Annotated[str, PersonalData(Kind.ADDRESS)]
    country: str


class _Person(BaseModel):
    name: Annotated[str, PersonalData(Kind.NAME)]
    born: Annotated[str | None, PersonalData(Kind.BIRTH_DATE)] = None
    email: Annotated[str, PersonalData(Kind.EMAIL)] | None = None  # marker inside the union
    addresses: list[_Address] = Field(default_factory=list)
    by_role: dict[str, _Address] = Field(default_factory=dict)


class _Case(BaseModel):
    case_id: str
    applicant: _Person | None = None
    phone: Annotated[str, PersonalData(Kind.PHONE)] = Field(alias="phoneNumber")
    notes: tuple[Annotated[str, PersonalData(Kind.CONTENT)], ...] = ()


def test_the_path_finder_walks_nested_models_lists_mappings_optionals_and_aliases() -> None:
    assert personal_data_paths(_Case) == {
        "applicant.name": Kind.NAME,
        "applicant.born": Kind.BIRTH_DATE,
        "applicant.email": Kind.EMAIL,
        "applicant.addresses[].street": Kind.ADDRESS,
        "applicant.by_role.*.street": Kind.ADDRESS,
        "phoneNumber": Kind.PHONE,
        "notes[]": Kind.CONTENT,
    }


class _Node(BaseModel):
    label: Annotated[str, PersonalData(Kind.NAME)]
    children: list[_Node] = Field(default_factory=list)


def test_a_recursive_model_is_refused_rather_than_half_walked() -> None:
    with pytest.raises(TypeError, match=r"recursive model .*: _Node -> _Node"):
        personal_data_paths(_Node)


def test_the_declared_contract_fields() -> None:
    """What issue 7 asked to be declared, by contract version."""
    v1 = contract_for("nl.gemeente.formulier.ingediend", 1)
    v2 = contract_for("nl.gemeente.formulier.ingediend", 2)
    attachments = {"attachments[].name": Kind.CONTENT, "attachments[].inline_base64": Kind.CONTENT}
    assert personal_data_paths(v1) == {
        "authentication.bsn": Kind.BSN,
        "authentication.kvk": Kind.KVK,
        "authentication.pseudo_id": Kind.PSEUDONYM,
        "authentication.acting_subject_id": Kind.IDENTIFIER,
        **attachments,
    }
    assert personal_data_paths(v2) == {
        "authentication.legal_subject.value": Kind.IDENTIFIER,
        "authentication.acting_subject.value": Kind.IDENTIFIER,
        **attachments,
    }
    assert personal_data_paths(contract_for("nl.gemeente.brp.persoon-gewijzigd")) == {
        "bsn": Kind.BSN
    }
    assert personal_data_paths(contract_for("nl.gemeente.bericht.verzoek-aangemaakt")) == {
        "personalisatie": Kind.CONTENT,
        "ontvanger.bsn": Kind.BSN,
        "ontvanger.email": Kind.EMAIL,
        "ontvanger.telefoon": Kind.PHONE,
    }


def _schema_paths(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field path of a JSON Schema, to its property node (refs and unions followed)."""
    defs = schema.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}

    def targets(node: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in node:
            return targets(defs[node["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in node:
            return [t for branch in node["anyOf"] for t in targets(branch)]
        return [node]

    def walk(node: dict[str, Any], prefix: str, depth: int) -> None:
        for target in targets(node):
            for name, prop in target.get("properties", {}).items():
                paths[prefix + name] = prop
                if depth < 6:
                    walk(prop, f"{prefix}{name}.", depth + 1)
            if isinstance(target.get("items"), dict) and prefix:
                walk(target["items"], prefix[:-1] + "[].", depth + 1)
            if isinstance(target.get("additionalProperties"), dict) and prefix:
                walk(target["additionalProperties"], prefix + "*.", depth + 1)

    walk(schema, "", 0)
    return paths


def _declared_in_schema(prop: dict[str, Any]) -> str | None:
    found = [prop.get(SCHEMA_KEYWORD)] + [b.get(SCHEMA_KEYWORD) for b in prop.get("anyOf", [])]
    return next((kind for kind in found if kind), None)


@pytest.mark.parametrize("spec", CONTRACTS, ids=lambda s: f"{s.type}-v{s.version}")
def test_every_field_that_suggests_personal_data_is_declared(spec: ContractSpec) -> None:
    declared = personal_data_paths(spec)
    forgotten = [
        path
        for path in _schema_paths(schema_of(spec))
        if SUGGESTS_PERSONAL.search(path.rsplit(".", 1)[-1].lower())
        and (spec.type, path) not in NOT_PERSONAL
        and not any(d == path or d.startswith((f"{path}.", f"{path}[]")) for d in declared)
    ]
    assert forgotten == [], (
        f"{spec.type} v{spec.version}: declare these fields with PersonalData(...) "
        f"(contracts/personal_data.py), or list them in NOT_PERSONAL with the reason: {forgotten}"
    )


@pytest.mark.parametrize("spec", CONTRACTS, ids=lambda s: f"{s.type}-v{s.version}")
def test_the_json_schema_shows_exactly_the_declared_fields(spec: ContractSpec) -> None:
    in_schema = {
        path: kind
        for path, prop in _schema_paths(schema_of(spec)).items()
        if (kind := _declared_in_schema(prop))
    }
    assert in_schema == {path: kind.value for path, kind in personal_data_paths(spec).items()}


def test_path_segments_split_list_markers() -> None:
    assert path_segments("attachments[].name") == ("attachments", "[]", "name")
    assert path_segments("bsn") == ("bsn",)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("authentication.bsn", Kind.BSN),
        ("personalisatie.naam", Kind.CONTENT),  # inside a declared mapping
        ("attachments.0.name", Kind.CONTENT),  # a list index
        ("attachments.name", Kind.CONTENT),  # or none: the path skips the list
        ("by_role.owner.street", Kind.ADDRESS),  # * matches any key
        ("authentication", None),  # holds personal data, but is not itself a value
        ("authentication.method", None),
        ("form.name", None),
        ("authentication.bsnx", None),
    ],
)
def test_personal_data_at_names_a_declared_field_or_one_inside_it(
    path: str, kind: PersonalDataKind | None
) -> None:
    declared = {
        "authentication.bsn": Kind.BSN,
        "personalisatie": Kind.CONTENT,
        "attachments[].name": Kind.CONTENT,
        "by_role.*.street": Kind.ADDRESS,
    }
    assert personal_data_at(path, declared) == kind
