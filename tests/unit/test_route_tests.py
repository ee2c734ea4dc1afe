"""``knooppunt routes test``: route test files run against a hub config, without Kafka."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner, Result

from hub.cli.routes import routes_app
from hub.config import HubConfig
from hub.errors import ConfigError, ContractError, UnroutedError
from hub.routing.route_tests import (
    PlacedCase,
    RouteTestCase,
    judge,
    load_route_tests,
    merge_payload,
    run_case,
    run_route_tests,
)
from hub.routing.rules import RoutingPlan
from tests.conftest import DEMO_CONFIG, REPO

DEMO_TESTS = REPO / "deploy" / "demo" / "routes.test.yaml"
FORM = "nl.gemeente.formulier.ingediend"
PARKING_CASES = {
    "Amsterdam parking permit goes to parking and the archive",
    "Amsterdam parking permit under contract v2 goes to parking and the archive",
}

# Registered the way hub/cli/routes.py registers it: `knooppunt routes test FILE`.
_cli = typer.Typer()
_cli.add_typer(routes_app, name="routes")


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(_cli, ["routes", "test", *map(str, args)])


def _write(tmp_path: Path, text: str, name: str = "routes.test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _broken_demo_config(tmp_path: Path) -> Path:
    """The demo config with Amsterdam's parking route sending only to the archive."""
    text = DEMO_CONFIG.read_text()
    assert text.count("to: [parkeren, archief]") == 1
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace("to: [parkeren, archief]", "to: [archief]"))
    return path


def _case(**fields: object) -> RouteTestCase:
    return RouteTestCase.model_validate({"name": "c", "tenant": "0363", "contract": FORM, **fields})


def _placed(**fields: object) -> PlacedCase:
    return PlacedCase(_case(**fields), "t.yaml:3")


# --- the demo file -------------------------------------------------------------------------------


def test_every_case_of_the_demo_file_passes() -> None:
    names = [case["name"] for case in yaml.safe_load(DEMO_TESTS.read_text())["cases"]]
    result = _run(DEMO_TESTS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(" (")[0] for line in lines[:-1]] == [f"PASS {name}" for name in names]
    assert all(f"({DEMO_TESTS}:" in line for line in lines[:-1])
    assert lines[-1] == f"{len(names)} passed, 0 failed"


def test_demo_file_covers_fan_out_no_route_isolation_and_both_versions() -> None:
    report = run_route_tests(DEMO_TESTS)
    reached = {r.name: set(r.destinations) for r in report.results}
    assert reached["Amsterdam parking permit goes to parking and the archive"] == {
        "parkeren",
        "archief",
    }
    assert reached["Rotterdam parking permit does not follow Amsterdam's parking route"] == set()
    assert reached["Amsterdam form without a route goes nowhere"] == set()
    cases = load_route_tests(DEMO_TESTS).cases
    assert {c.case.version for c in cases} >= {1, 2}
    assert {c.case.tenant for c in cases} == {"0363", "0599"}


# --- a broken route ------------------------------------------------------------------------------


def test_a_broken_route_fails_exactly_its_cases_with_the_reason(tmp_path: Path) -> None:
    result = _run(DEMO_TESTS, "--config", _broken_demo_config(tmp_path))
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert {line.removeprefix("FAIL ").split(" (")[0] for line in failed} == PARKING_CASES
    for line in failed:
        assert line.endswith("expected [archief, parkeren], got [archief]: missing parkeren")
        assert f"({DEMO_TESTS}:" in line
    total = len(load_route_tests(DEMO_TESTS).cases)
    assert result.stdout.splitlines()[-1] == f"{total - 2} passed, 2 failed"


def test_the_config_a_file_names_is_relative_to_it(tmp_path: Path) -> None:
    _broken_demo_config(tmp_path)
    text = DEMO_TESTS.read_text().replace("config: config.yaml", "config: broken.yaml")
    result = _run(_write(tmp_path, text))
    assert result.exit_code == 1
    assert result.stdout.count("FAIL ") == 2


def test_config_option_overrides_the_file(tmp_path: Path) -> None:
    _broken_demo_config(tmp_path)
    text = DEMO_TESTS.read_text().replace("config: config.yaml", "config: broken.yaml")
    result = _run(_write(tmp_path, text), "--config", DEMO_CONFIG)
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout


# --- an invalid file ---------------------------------------------------------------------------

HEADER = f"config: {DEMO_CONFIG}\ncases:\n"


def test_an_unknown_field_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + f"""\
  - name: typo
    tenant: "0363"
    contract: {FORM}
    expct: []
""",
    )
    result = _run(path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error: route tests not run (1 problem):" in result.stderr
    assert f"{path}:6: cases[0].expct: unknown field" in result.stderr


def test_a_case_without_expectations_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + f"""\
  - name: fine
    tenant: "0363"
    contract: {FORM}
    expect: []
  - name: checks nothing
    tenant: "0363"
    contract: {FORM}
""",
    )
    result = _run(path)
    assert result.exit_code == 2
    assert f"{path}:7: cases[1]: give expect, or reaches and/or not_reaches" in result.stderr


def test_every_problem_of_a_file_is_listed(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
config: nowhere.yaml
cases:
  - name: twice
    tenant: "0363"
    contract: x.y
    expect: []
  - name: twice
    tenant: 363
    contract: x.y
    expect: []
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_route_tests(path)
    found = {(i.line, i.field): i.message for i in caught.value.issues}
    assert "quote it" in found[(8, "cases[1].tenant")]
    assert len(found) == 1  # duplicates and the config are checked once the fields are valid
    with pytest.raises(ConfigError) as caught:
        load_route_tests(
            _write(tmp_path, path.read_text().replace("tenant: 363", 'tenant: "0599"'))
        )
    found = {(i.line, i.field): i.message for i in caught.value.issues}
    assert found == {
        (7, "cases[1].name"): "duplicate case name 'twice'",
        (1, "config"): f"no such file or folder: {tmp_path / 'nowhere.yaml'}",
    }


def test_yaml_syntax_errors_and_an_invalid_config_exit_2(tmp_path: Path) -> None:
    result = _run(_write(tmp_path, "cases: [\n"))
    assert result.exit_code == 2
    assert "(syntax)" in result.stderr
    bad_config = _write(tmp_path, "tenants: []\n", "hub.yaml")
    result = _run(DEMO_TESTS, "--config", bad_config)
    assert result.exit_code == 2
    assert f"{bad_config}:1: tenants:" in result.stderr


# --- invalid cases ------------------------------------------------------------------------------


def test_a_payload_its_contract_refuses_names_the_case_and_the_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + f"""\
  - name: a good one
    tenant: "0363"
    contract: {FORM}
    expect: [parkeren, archief]
  - name: BSN that fails the 11-proef
    tenant: "0363"
    contract: {FORM}
    version: 1
    payload:
      authentication: {{ bsn: "123456789" }}
    expect: []
""",
    )
    result = _run(path)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[1] == (
        f"ERROR BSN that fails the 11-proef ({path}:7): "
        "payload.authentication.bsn: not a valid BSN: it fails the 11-proef"
    )
    assert lines[-1] == "1 passed, 0 failed, 1 invalid"


@pytest.mark.parametrize(
    ("fields", "explanation"),
    [
        ({"tenant": "0598", "expect": []}, "tenant: unknown tenant '0598'; known: 0363, 0599"),
        ({"contract": "nl.gemeente.formulier", "expect": []}, "contract: unknown contract"),
        ({"version": 3, "expect": []}, "version: nl.gemeente.formulier.ingediend has no version 3"),
        ({"payload": {"form": {"id": ""}}, "expect": []}, "payload.form.id: String should have"),
        (
            {"not_reaches": ["parkern"]},
            "not_reaches: tenant 0363 has no destination 'parkern'; it has: zaaksysteem,",
        ),
        (
            {"contract": "nl.overheid.zaken.zaak.create", "expect": []},
            "contract: the payload makes an event of type nl.overheid.zaken.status.create, not",
        ),
    ],
)
def test_a_case_that_cannot_make_its_event_is_invalid(
    demo_config: HubConfig, fields: dict[str, object], explanation: str
) -> None:
    result = run_case(demo_config, _placed(**fields))
    assert result.outcome == "invalid"
    assert result.explanation.startswith(explanation)
    assert result.where == "t.yaml:3"


def test_a_family_type_takes_resource_and_actie_from_the_payload(demo_config: HubConfig) -> None:
    contract = "nl.overheid.zaken.zaak.create"
    result = run_case(
        demo_config, _placed(contract=contract, payload={"resource": "zaak"}, expect=[])
    )
    assert (result.outcome, result.destinations) == ("passed", ())


def test_a_route_on_a_zgw_family_is_tested_with_its_prefix_or_a_full_type(
    demo_config: HubConfig,
) -> None:
    route = {"tenant": "0363", "contract": "nl.overheid.zaken", "when": {"actie": "create"}}
    config = HubConfig.model_validate(
        {**demo_config.model_dump(), "routes": [{**route, "to": ["zaaksysteem"]}]}
    )
    created = run_case(config, _placed(contract="nl.overheid.zaken", expect=["zaaksysteem"]))
    updated = run_case(
        config,
        _placed(contract="nl.overheid.zaken.status.update", payload={"actie": "update"}, expect=[]),
    )
    assert (created.outcome, updated.outcome) == ("passed", "passed")
    assert run_case(config, _placed(contract="nl.overheid.zaken", expect=[])).outcome == "failed"


def test_an_event_that_would_be_dead_lettered_fails(demo_config: HubConfig) -> None:
    strict = demo_config.model_copy(
        update={
            "tenants": [
                t.model_copy(update={"unrouted": "dead-letter"}) for t in demo_config.tenants
            ]
        }
    )
    case = _placed(payload={"form": {"id": "formulier-zonder-route"}}, expect=[])
    assert run_case(demo_config, case).outcome == "passed"
    result = run_case(strict, case)
    assert result.outcome == "failed"
    assert result.explanation == (
        "dead-lettered instead of routed: no route of tenant 0363 matches"
    )


# --- judging (pure) -----------------------------------------------------------------------------


def test_expect_is_exact_and_ignores_order() -> None:
    case = _case(expect=["parkeren", "archief"])
    assert judge(case, RoutingPlan(("archief", "parkeren")))[0] == "passed"
    assert judge(case, RoutingPlan(("archief", "parkeren", "zaaksysteem"))) == (
        "failed",
        "expected [archief, parkeren], got [archief, parkeren, zaaksysteem]: "
        "unexpected zaaksysteem",
    )
    assert judge(_case(expect=[]), RoutingPlan(("archief",))) == (
        "failed",
        "expected [], got [archief]: unexpected archief",
    )
    assert judge(_case(expect=["archief"]), RoutingPlan()) == (
        "failed",
        "expected [archief], got [] (matched no route): missing archief",
    )


def test_reaches_and_not_reaches_check_only_what_they_name() -> None:
    case = _case(reaches=["zaaksysteem"], not_reaches=["parkeren"])
    assert judge(case, RoutingPlan(("zaaksysteem", "archief")))[0] == "passed"
    assert judge(case, RoutingPlan(("archief", "parkeren"))) == (
        "failed",
        "did not reach zaaksysteem; reached parkeren, which it must not (got [archief, parkeren])",
    )


def test_a_dead_letter_fails_even_an_empty_expectation() -> None:
    plan = RoutingPlan(dead_letter=ContractError("unknown tenant '0598'", "ce_tenant"))
    outcome, why = judge(_case(expect=[]), plan)
    assert (outcome, why) == (
        "failed",
        "dead-lettered instead of routed: ce_tenant: unknown tenant '0598'",
    )
    assert judge(_case(not_reaches=["x"]), RoutingPlan(dead_letter=UnroutedError("no route")))[
        0
    ] == ("failed")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give expect, or reaches and/or not_reaches"),
        ({"reaches": [], "not_reaches": []}, "give expect, or reaches and/or not_reaches"),
        ({"expect": [], "reaches": ["a"]}, "not both"),
        ({"reaches": ["a"], "not_reaches": ["a"]}, "a in both reaches and not_reaches"),
        ({"expect": [], "wanneer": 1}, "Extra inputs are not permitted"),
    ],
)
def test_a_case_must_check_something_unambiguous(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _case(**fields)


def test_payload_is_deep_merged_onto_the_example() -> None:
    example = {"form": {"id": "a", "name": "A"}, "values": {"x": 1}, "tags": [1, 2]}
    merged = merge_payload(example, {"form": {"id": "b"}, "values": None, "tags": [3]})
    assert merged == {"form": {"id": "b", "name": "A"}, "values": None, "tags": [3]}
    assert example["form"] == {"id": "a", "name": "A"}  # the example itself is unchanged


def test_the_installed_command_runs_the_demo_route_tests() -> None:
    knooppunt = Path(sys.executable).parent / "knooppunt"
    result = subprocess.run(
        [str(knooppunt), "routes", "test", str(REPO / "deploy/demo/routes.test.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("11 passed, 0 failed")
