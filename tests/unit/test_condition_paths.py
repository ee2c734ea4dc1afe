"""Route condition paths against the contract's JSON Schema (hub.config.conditions): a path
into a field that does not exist is refused naming the nearest one, free-form mappings take any
sub-path, and a path must end at one value to compare (a typo matched nothing, silently)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.registry import contract_for
from hub.config import Route
from hub.config.conditions import condition_path_problem
from hub.routing.rules import RoutableEvent, route_matches

FORM = contract_for("nl.gemeente.formulier.ingediend").model.model_json_schema()
ZAKEN = contract_for("nl.overheid.zaken.zaak.create").model.model_json_schema()


@pytest.mark.parametrize(
    "path",
    [
        "form.id",
        "reference",
        "authentication.method",
        "authentication.legal_subject.type",
        "values.kenteken",  # the form's own values: free-form, any key
        "values.adres.postcode",  # and anything below
    ],
)
def test_paths_of_the_submission_contract(path: str) -> None:
    assert condition_path_problem(path, [FORM]) is None


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("form.idd", "no field form.idd; did you mean form.id?"),
        ("valeus.kenteken", "no field valeus; did you mean values?"),
        ("authentication.bsn", "no field authentication.bsn; authentication has: "),
        ("reference.x", "reference is a string; it has no field 'x'"),
        ("attachments.name", "attachments is a list (a condition cannot look inside one)"),
        ("form", "form is an object; a condition compares one value: name a field inside it "),
        ("attachments", "attachments is a list; a condition compares one value"),
        ("zzz", "no field zzz; the payload has: attachments, authentication, form, "),
    ],
)
def test_paths_that_never_match_say_why(path: str, problem: str) -> None:
    said = condition_path_problem(path, [FORM])
    assert said is not None
    assert said.startswith(problem)


def test_an_optional_object_may_be_tested_for_null() -> None:
    path = "authentication.legal_subject"
    assert condition_path_problem(path, [FORM]) is not None  # no value ever equals an object
    assert condition_path_problem(path, [FORM], tests_null=True) is None  # but null: absent


def test_a_mapping_of_strings_takes_any_key_then_ends() -> None:
    assert condition_path_problem("kenmerken.zaaktype", [ZAKEN]) is None
    assert condition_path_problem("kenmerken.zaaktype.url", [ZAKEN]) == (
        "kenmerken.zaaktype is a string; it has no field 'url'"
    )
    assert condition_path_problem("hoofdobject", [ZAKEN]) == (
        "no field hoofdobject; did you mean hoofdObject?"
    )


def test_a_family_route_takes_a_path_any_of_its_types_has() -> None:
    assert condition_path_problem("form.id", [ZAKEN, FORM]) is None
    assert condition_path_problem("actie", [FORM, ZAKEN]) is None
    both = condition_path_problem("nope", [FORM, ZAKEN])
    assert both is not None
    assert both.startswith("no field nope; the payload has: attachments")  # the first's


def _payload(**fields: Any) -> dict[str, Any]:
    return {"form": {"id": "parkeervergunning"}, "values": {}, **fields}


def test_what_the_check_refuses_is_what_routing_never_matches() -> None:
    """The check reads paths as hub.routing.rules does: the refused typo never matched."""
    event = RoutableEvent("0363", "nl.gemeente.formulier.ingediend", 2, _payload())
    for path, refused in (("form.id", False), ("form.idd", True)):
        route = Route(
            tenant="0363",
            contract="nl.gemeente.formulier.ingediend",
            when={path: "parkeervergunning"},
            to=["x"],
        )
        assert route_matches(route, event) is not refused
        assert (condition_path_problem(path, [FORM]) is not None) is refused
