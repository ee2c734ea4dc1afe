from __future__ import annotations

from pathlib import Path

import pytest

from connectors.registry import connector_names
from hub.config import HubConfig, load_config
from hub.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    return path


def _refusal(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


TENANT = """\
tenants:
  - id: "0363"
    name: Amsterdam
    oin: "00000001002564440000"
    rsin: "002564440"
    destinations:
      - name: zaaksysteem
        connector: topic
"""


def test_the_demo_config_loads(demo_config: HubConfig) -> None:
    assert [t.id for t in demo_config.tenants] == ["0363", "0599"]
    assert demo_config.routes_of("0599")[0].to == ["zaaksysteem"]


def test_unknown_tenant_in_a_route_names_file_line_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        TENANT
        + """\
routes:
  - tenant: "0999"
    contract: nl.gemeente.formulier.ingediend
    to: [zaaksysteem]
""",
    )
    error = _refusal(path)
    assert len(error.issues) == 1
    issue = error.issues[0]
    assert (issue.file, issue.line, issue.field) == (str(path), 10, "routes[0].tenant")
    assert "unknown tenant '0999'" in issue.message
    assert "known: 0363" in issue.message
    assert f"{path}:10: routes[0].tenant: unknown tenant" in str(error)


def test_a_missing_field_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, TENANT.replace('    rsin: "002564440"\n', ""))
    issue = _refusal(path).issues[0]
    assert issue.field == "tenants[0].rsin"
    assert issue.message == "required field is missing"
    assert issue.line == 2  # the tenant entry that lacks it


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = TENANT.replace('"00000001002564440000"', '"123"').replace(
        "connector: topic", "connector: ftp"
    )
    issues = _refusal(_write(tmp_path, text)).issues
    fields = {i.field: i for i in issues}
    assert fields["tenants[0].oin"].message == "must be exactly 20 digits, got '123'"
    assert fields["tenants[0].oin"].line == 4
    known = ", ".join(connector_names("sink"))  # every sink, in order: one more broke "topic"
    assert fields["tenants[0].destinations[0].connector"].message.startswith(
        f"unknown connector; known: {known}"
    )


def test_unquoted_tenant_id_gets_a_hint(tmp_path: Path) -> None:
    issue = _refusal(_write(tmp_path, TENANT.replace('id: "0363"', "id: 1234"))).issues[0]
    assert issue.field == "tenants[0].id"
    assert "quote it" in issue.message


def test_a_route_to_a_destination_the_tenant_lacks(tmp_path: Path) -> None:
    text = (
        TENANT
        + 'routes:\n  - tenant: "0363"\n'
        + "    contract: nl.gemeente.formulier.ingediend\n    to: [zaaksysteem, archief]\n"
    )
    issue = _refusal(_write(tmp_path, text)).issues[0]
    assert issue.field == "routes[0].to[1]"
    assert "has no destination 'archief'; it has: zaaksysteem" in issue.message


def test_unknown_field_and_unknown_contract(tmp_path: Path) -> None:
    text = (
        TENANT
        + 'routes:\n  - tenant: "0363"\n'
        + "    contract: nl.gemeente.onbekend\n    to: [zaaksysteem]\n    wehn: {}\n"
    )
    issues = {(i.field, i.line): i.message for i in _refusal(_write(tmp_path, text)).issues}
    # Both at once: the unknown field no longer hides the unknown contract until it is fixed.
    assert "unknown field" in issues[("routes[0].wehn", 13)]
    assert "unknown contract 'nl.gemeente.onbekend'" in issues[("routes[0].contract", 11)]
    assert len(issues) == 2


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    issue = _refusal(_write(tmp_path, TENANT + "routes: [\n  - oops: {\n")).issues[0]
    assert issue.field == "(syntax)"
    assert issue.line is not None


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    issue = _refusal(tmp_path / "nope.yaml").issues[0]
    assert "cannot read" in issue.message


def test_connector_settings_are_checked_at_start(tmp_path: Path) -> None:
    text = TENANT.replace(
        "        connector: topic\n",
        "        connector: webhook\n        settings: {timeout_s: 5}\n",
    )
    issue = _refusal(_write(tmp_path, text)).issues[0]
    assert (issue.field, issue.line) == ("tenants[0].destinations[0].settings.url", 9)
    assert issue.message == "Field required"


def test_a_folder_of_files_is_one_config_and_errors_name_their_file(tmp_path: Path) -> None:
    (tmp_path / "0363.yaml").write_text(TENANT)
    (tmp_path / "routes.yaml").write_text(
        'routes:\n  - tenant: "0363"\n    contract: nl.gemeente.formulier.ingediend\n'
        "    to: [archief]\n"
    )
    issue = _refusal(tmp_path).issues[0]
    assert issue.file == str(tmp_path / "routes.yaml")
    assert (issue.line, issue.field) == (4, "routes[0].to[0]")
    (tmp_path / "routes.yaml").write_text(
        (tmp_path / "routes.yaml").read_text().replace("archief", "zaaksysteem")
    )
    assert len(load_config(tmp_path).routes) == 1


def test_a_route_may_not_test_personal_data(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        TENANT
        + """\
routes:
  - tenant: "0363"
    contract: nl.gemeente.formulier.ingediend
    when: { form.id: parkeervergunning }
    to: [zaaksysteem]
  - tenant: "0363"
    contract: nl.gemeente.formulier.ingediend
    versions: [2]
    when:
      form.id: parkeervergunning
      authentication.bsn: "999993653"
      authentication.legal_subject.type: kvk
      authentication.legal_subject.value: "68750110"
    to: [zaaksysteem]
  - tenant: "0363"
    contract: nl.gemeente.bericht.verzoek-aangemaakt
    when: { personalisatie.naam: Jan }
    to: [zaaksysteem]
""",
    )
    error = _refusal(path)
    assert [(i.line, i.field, i.message) for i in error.issues] == [
        (
            19,
            "routes[1].when.authentication.bsn",
            "a route may not test personal data (bsn); route on the form or the case instead",
        ),
        (
            21,
            "routes[1].when.authentication.legal_subject.value",
            "a route may not test personal data (identifier); route on the form or the case "
            "instead",
        ),
        (
            25,
            "routes[2].when.personalisatie.naam",
            "a route may not test personal data (content); route on the form or the case instead",
        ),
    ]


@pytest.mark.parametrize(
    ("field", "ascii_value", "line"),
    [("id", "0363", 2), ("oin", "00000001002564440000", 4), ("rsin", "002564440", 5)],
)
def test_tenant_identifiers_take_ascii_digits_only(
    tmp_path: Path, field: str, ascii_value: str, line: int
) -> None:
    """Issue 8: \\d matched full-width digits ("０３６３" was a tenant id of its own)."""
    full_width = "".join(chr(0xFF10 + int(digit)) for digit in ascii_value)
    text = TENANT.replace(f'"{ascii_value}"', f'"{full_width}"')
    issue = next(i for i in _refusal(_write(tmp_path, text)).issues if i.field.endswith(field))
    assert issue.field == f"tenants[0].{field}"
    assert issue.message == f"must be exactly {len(ascii_value)} digits, got {full_width!r}"
    assert issue.line == line


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    """Reported: a second top-level routes: block silently replaced the first (YAML keeps the
    last), and two tenants lost their routes."""
    text = TENANT + "routes: []\nclients: []\nroutes: []\n"
    issue = _refusal(_write(tmp_path, text)).issues[0]
    assert issue.field == "routes"
    assert issue.line == 11
    assert "first on line 9" in issue.message


def test_a_key_twice_inside_a_tenant_is_refused(tmp_path: Path) -> None:
    text = TENANT.replace('    rsin: "002564440"\n', '    rsin: "002564440"\n    name: Mokum\n')
    issue = _refusal(_write(tmp_path, text)).issues[0]
    assert (issue.field, issue.line) == ("tenants[0].name", 6)


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """Reported: a YAML "billion laughs" hung `config check` at 100 % CPU and 2.5 GB."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    issue = _refusal(_write(tmp_path, "\n".join(lines) + "\n")).issues[0]
    assert "aliases" in issue.message


def test_delivery_set_in_two_files_of_a_folder_is_refused(tmp_path: Path) -> None:
    """Reported: in a folder, the last file's delivery: silently won for every tenant."""
    (tmp_path / "a.yaml").write_text(TENANT + "delivery:\n  max_in_flight: 2\n")
    (tmp_path / "b.yaml").write_text("delivery:\n  max_in_flight: 50\n")
    issue = _refusal(tmp_path).issues[0]
    assert issue.file.endswith("b.yaml")
    assert "a.yaml:9" in issue.message


def test_identity_providers_load_from_yaml(tmp_path: Path) -> None:
    text = TENANT + (
        "identity_providers:\n"
        "  - name: keycloak\n"
        "    issuer: https://sso.example.nl/realms/gemeenten\n"
        "    jwks_url: https://sso.example.nl/realms/gemeenten/protocol/openid-connect/certs\n"
        "    audience: knooppunt\n"
    )
    [provider] = load_config(_write(tmp_path, text)).identity_providers
    assert provider.algorithms == ["RS256", "ES256"]


@pytest.mark.parametrize(
    ("delivery", "field", "says"),
    [
        ("circuit_break: 999999999999d", "delivery.circuit_break", "at most 365d"),
        ("max_in_flight: true", "delivery.max_in_flight", "integer"),
        ("retry_delays: [60s, 1m]", "delivery.retry_delays", "longer than the one before"),
        ("retry_delays: [5m, 1m]", "delivery.retry_delays", "longer than the one before"),
        ("circuit_break: 2d\n  block_after: 1d", "delivery", "block_after"),
    ],
)
def test_delivery_policies_a_new_user_got_accepted_are_refused(
    tmp_path: Path, delivery: str, field: str, says: str
) -> None:
    """Found by a new user: each of these was accepted (a probe in 8.6e16 s, max_in_flight 1
    from `true`, two tiers of one delay, tiers in descending order)."""
    issue = _refusal(_write(tmp_path, TENANT + f"delivery:\n  {delivery}\n")).issues[0]
    assert issue.field == field
    assert says in issue.message


def test_a_webhook_url_with_credentials_is_refused(tmp_path: Path) -> None:
    text = TENANT.replace(
        "        connector: topic\n",
        "        connector: webhook\n        settings:\n          url: https://u:p@bo.example/in\n",
    )
    issue = _refusal(_write(tmp_path, text)).issues[0]
    assert "no user or password" in issue.message


def test_enrichment_needs_the_tenants_brp_and_a_pushed_destination(tmp_path: Path) -> None:
    text = TENANT.replace(
        "        connector: topic\n",
        "        connector: topic\n        enrich:\n          brp: [naam]\n",
    )
    messages = {i.field: i.message for i in _refusal(_write(tmp_path, text)).issues}
    assert "no brp:" in messages["tenants[0].destinations[0].enrich.brp"]
    assert "not a topic" in messages["tenants[0].destinations[0].enrich"]


def test_polling_sources_are_checked_like_destinations(tmp_path: Path) -> None:
    sources = """\
    sources:
      - name: brp
        connector: brp-wijzigingen
        settings: {interval_s: 0}
"""
    issues = {
        (i.field, i.line): i.message for i in _refusal(_write(tmp_path, TENANT + sources)).issues
    }
    assert issues[("tenants[0].sources[0].settings.url", 12)] == "Field required"
    assert "greater than or equal to 1" in issues[("tenants[0].sources[0].settings.interval_s", 12)]
    sink = sources.replace("brp-wijzigingen", "webhook")
    issue = _refusal(_write(tmp_path, TENANT + sink)).issues[0]
    assert (issue.field, issue.line) == ("tenants[0].sources[0].connector", 11)
    assert issue.message.endswith("not a polling source connector; known: brp-wijzigingen")
