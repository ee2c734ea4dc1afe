"""`knooppunt config check` does what `knooppunt run` does before it connects, and says every
problem at once, each with file and line (issue 11, part 7: it said "ok" to a config whose
secret_file did not exist, reported one of three mistakes, and passed a route condition on
`form.idd` that could never match)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner, Result

from connectors.registry import CONNECTORS
from hub.cli.main import app
from hub.config import check_config
from hub.errors import ConfigError
from tests.conftest import DEMO_CONFIG
from tests.integration.processes import KNOOPPUNT
from tests.kafka_under_test import free_port

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


def _check(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["config", "check", *args], env=env, prog_name="knooppunt")


def _problems(path: Path, environ: dict[str, str] | None = None) -> dict[tuple[str, int], str]:
    """Every problem of the config at ``path``, by (field, line)."""
    with pytest.raises(ConfigError) as refused:
        check_config(path, environ or {})
    return {(issue.field, issue.line or 0): issue.message for issue in refused.value.issues}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    shutil.copytree(DEMO_CONFIG.parent, tmp_path / "demo")
    return tmp_path / "demo" / "config.yaml"


def test_a_missing_secret_file_is_refused_with_file_and_line(config_copy: Path) -> None:
    secret = config_copy.parent / "secrets" / "demo-eformulieren.secret"
    secret.unlink()
    result = _check(str(config_copy))
    assert result.exit_code == 2, result.stdout
    assert "ok" not in result.stdout
    assert result.stderr.splitlines() == [
        "error: configuration refused (1 problem):",
        f"  {config_copy}:25: clients[0].secret_file: file {secret} does not exist",
    ]


def test_run_refuses_the_same_way_before_it_connects(config_copy: Path) -> None:
    (config_copy.parent / "secrets" / "demo-eformulieren.secret").unlink()
    nothing = {  # Kafka is not there either: the config is said first, with its line
        "KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "KNOOPPUNT_HTTP_PORT": str(free_port()),
    }
    run = subprocess.run(
        [KNOOPPUNT, "run", "--config", str(config_copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **nothing},
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert f"{config_copy}:25: clients[0].secret_file: file " in run.stderr
    assert "Kafka" not in run.stderr


# A webhook whose signing secret, and a client whose secret, are environment variables.
SECRETS_FROM_THE_ENVIRONMENT = TENANT.replace(
    "        connector: topic\n",
    "        connector: webhook\n        settings:\n          url: https://bo.example/in\n"
    "          signing_secret_env: BO_SIGNING_SECRET\n",
) + ("clients:\n  - id: eforms\n    secret_env: EFORMS_SECRET\n    tenants: ['0363']\n")


def test_a_secret_variable_that_is_not_set(tmp_path: Path) -> None:
    path = _write(tmp_path, SECRETS_FROM_THE_ENVIRONMENT)
    assert _problems(path) == {
        ("tenants[0].destinations[0].settings.signing_secret_env", 11): "environment variable "
        "BO_SIGNING_SECRET is not set",
        ("clients[0].secret_env", 14): "environment variable EFORMS_SECRET is not set",
    }
    check_config(path, {"BO_SIGNING_SECRET": "whsec_x", "EFORMS_SECRET": "s" * 32})  # set: ok
    assert _check("--no-secrets", str(path)).exit_code == 0  # CI without production secrets


NOT_UTF8 = b"geheim\xff\xfe-32-bytes-long-enough-yes".decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (NOT_UTF8, "is not UTF-8 text"),  # os.environ hands such bytes over as surrogates
        ("s" * 20 + "\n" + "s" * 20, "holds a control character (a line break?)"),
    ],
)
def test_a_secret_variable_that_no_header_can_carry(
    tmp_path: Path, value: str, problem: str
) -> None:
    """Found by a new user: a secret_env of bytes that are not UTF-8 passed `config check` and
    made `run` end in a UnicodeEncodeError; every secret read from the environment (clients,
    operators, connector settings) is checked the same way, by connectors.sdk.secrets."""
    path = _write(tmp_path, SECRETS_FROM_THE_ENVIRONMENT)
    assert _problems(path, {"BO_SIGNING_SECRET": value, "EFORMS_SECRET": value}) == {
        ("tenants[0].destinations[0].settings.signing_secret_env", 11): "environment variable "
        f"BO_SIGNING_SECRET {problem}",
        ("clients[0].secret_env", 14): f"environment variable EFORMS_SECRET {problem}",
    }
    run = subprocess.run(  # the real process: the variable's bytes as a shell would set them
        [KNOOPPUNT, "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "BO_SIGNING_SECRET": value, "EFORMS_SECRET": value},
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert f"clients[0].secret_env: environment variable EFORMS_SECRET {problem}" in run.stderr


def test_a_ca_file_must_be_there_and_pem(tmp_path: Path) -> None:
    email = (
        "        connector: email\n        settings:\n          host: smtp.example\n"
        "          from_address: hub@example.org\n          to: [bo@example.org]\n"
        "          ca_file: {ca}\n"
    )
    missing = tmp_path / "nope.pem"
    text = TENANT.replace("        connector: topic\n", email.format(ca=missing))
    field = ("tenants[0].destinations[0].settings.ca_file", 13)
    assert _problems(_write(tmp_path, text)) == {
        field: f"cannot read {missing}: No such file or directory"
    }
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    text = TENANT.replace("        connector: topic\n", email.format(ca=garbage))
    assert _problems(_write(tmp_path, text))[field].startswith(
        f"{garbage} is not a PEM file of CA certificates"
    )


def test_three_mistakes_are_three_problems(tmp_path: Path) -> None:
    text = (
        TENANT.replace('"00000001002564440000"', '"123"')
        + "clients:\n  - id: eforms\n    secret_file: nope.secret\n    tenants: ['0363']\n"
        + "routes:\n  - tenant: '0363'\n    contract: nl.gemeente.formulier.ingediend\n"
        + "    to: [archief]\n"
    )
    path = _write(tmp_path, text)
    result = _check(str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: configuration refused (3 problems):",
        f"  {path}:4: tenants[0].oin: must be exactly 20 digits, got '123'",
        f"  {path}:11: clients[0].secret_file: file {tmp_path / 'nope.secret'} does not exist",
        f"  {path}:16: routes[0].to[0]: tenant 0363 has no destination 'archief'; it has: "
        "zaaksysteem",
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "is not a file (a folder or a device)"),  # a folder
        ("   \n", "is empty"),
        (
            "geheim-dat-lang-genoeg-is\x00-en-meer-dan-32-bytes",
            "holds a control character (a line break?)",
        ),
        (
            "eerste-regel-lang-genoeg-is-32b\ntweede-regel",
            "holds a control character (a line break?)",
        ),
    ],
)
def test_a_secret_file_that_holds_no_usable_secret_says_why(
    tmp_path: Path, content: str | None, says: str
) -> None:
    """Found by a new user: a folder, /dev/zero or a file of spaces all said "does not exist or
    is empty", and a secret holding a NUL byte was taken."""
    secret = tmp_path / "eforms.secret"
    if content is None:
        secret.mkdir()
    else:
        secret.write_text(content)
    text = (
        TENANT + "clients:\n  - id: eforms\n    secret_file: eforms.secret\n    tenants: ['0363']\n"
    )
    assert _problems(_write(tmp_path, text)) == {
        ("clients[0].secret_file", 11): _says(secret, says)
    }


def _says(path: Path, says: str) -> str:
    return f"file {path} {says}" if says == "is empty" else f"{path} {says}"


def test_a_problem_is_not_reported_again_through_what_refers_to_it(tmp_path: Path) -> None:
    text = TENANT.replace("connector: topic", "connector: ftp") + (
        "routes:\n  - tenant: '0363'\n    contract: nl.gemeente.formulier.ingediend\n"
        "    versions: [one]\n    to: [zaaksysteem, archief]\n"
    )
    problems = _problems(_write(tmp_path, text))
    assert set(problems) == {
        ("tenants[0].destinations[0].connector", 8),  # the destination's own problem
        ("routes[0].versions[0]", 12),  # the route's own problem
        ("routes[0].to[1]", 13),  # still checked: archief is no destination at all
    }


def test_a_typo_in_a_condition_path_names_the_field_meant(tmp_path: Path) -> None:
    text = TENANT + (
        "routes:\n  - tenant: '0363'\n    contract: nl.gemeente.formulier.ingediend\n"
        "    when: { form.idd: parkeervergunning, values.kenteken: AB-123-C }\n"
        "    to: [zaaksysteem]\n"
    )
    path = _write(tmp_path, text)
    result = _check(str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        f"  {path}:12: routes[0].when.form.idd: no field form.idd; did you mean form.id? "
        "(contract nl.gemeente.formulier.ingediend v2)"
    ]  # values.kenteken: the form's own values are free-form, any key goes


def test_the_demo_config_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DEMO_CONFIG.parent.parent.parent)
    result = _check(str(DEMO_CONFIG.relative_to(Path.cwd())))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "deploy/demo/config.yaml: ok (2 tenants, 1 client, 3 routes)\n"


def _env_settings(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Every setting named ``*_env`` of a connector config, nested models included."""
    schema = model.model_json_schema()
    found = {}
    for part in [schema, *schema.get("$defs", {}).values()]:
        for name, field in part.get("properties", {}).items():
            if name.endswith("_env"):
                found[name] = field
    return found


@pytest.mark.parametrize("spec", CONNECTORS, ids=lambda spec: spec.name)
def test_every_env_setting_names_a_variable(spec: object) -> None:
    """The config check finds secrets by the ``_env`` suffix (hub.config.environment): every
    such setting must name an environment variable, nothing else."""
    config: type[BaseModel] = spec.config  # type: ignore[attr-defined]
    for name, field in _env_settings(config).items():
        patterns = {
            alt.get("pattern") for alt in [field, *field.get("anyOf", [])] if isinstance(alt, dict)
        }
        assert "^[A-Z_][A-Z0-9_]*$" in patterns, f"{spec}: {name}"


def _certificate_and_key(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and its key, as PEM files."""
    import datetime  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_a_client_certificate_and_its_key_must_be_a_pair(tmp_path: Path) -> None:
    """Mutual TLS settings (connectors.sdk.MutualTls) are read as the HTTP client will."""
    from connectors.sdk import MutualTls  # noqa: PLC0415
    from hub.config.environment import _model_issues  # noqa: PLC0415

    class Settings(BaseModel):
        tls: MutualTls

    ours, our_key = _certificate_and_key(tmp_path, "hub")
    _, other_key = _certificate_and_key(tmp_path, "other")
    pair = Settings(tls=MutualTls(cert_file=ours, key_file=our_key, ca_file=ours))
    assert _model_issues(pair, ("settings",), {}, secrets=True) == []
    mixed = Settings(tls=MutualTls(cert_file=ours, key_file=other_key))
    [(where, problem)] = _model_issues(mixed, ("settings",), {}, secrets=True)
    assert where == ("settings", "tls")
    assert problem.startswith(f"{ours} and {other_key} are not a PEM certificate and its key")
    gone = Settings(tls=MutualTls(cert_file=tmp_path / "gone.crt", key_file=our_key))
    assert _model_issues(gone, ("settings",), {}, secrets=True) == [
        (
            ("settings", "tls", "cert_file"),
            f"cannot read {tmp_path / 'gone.crt'}: No such file or directory",
        )
    ]


@pytest.mark.parametrize("section", ["clients", "operators"])
def test_a_broken_entry_before_a_good_one_is_a_problem_not_a_crash(
    tmp_path: Path, section: str
) -> None:
    # A new user's trial: the duplicate-id check read the id of an entry that had failed.
    extra = "    tenants: all\n" if section == "operators" else "    tenants: ['0363']\n"
    text = (
        TENANT
        + f"{section}:\n  - id: 'bad name!'\n    secret_env: SECRET_ONE\n"
        + extra.replace("all", "['0363']")
        + "  - id: good\n    secret_env: SECRET_TWO\n"
        + extra
    )
    result = _check(
        str(_write(tmp_path, text)), env={"SECRET_ONE": "x" * 32, "SECRET_TWO": "y" * 32}
    )
    assert result.exit_code == 2, result.stderr
    assert "unexpected" not in result.stderr
    assert f"{section}[0].id" in result.stderr


def test_an_alias_inside_what_it_names_is_refused_without_eating_memory(tmp_path: Path) -> None:
    # A new user's trial: `a: &a [*a]` grew to 22 GB before the OOM killer stopped it.
    result = _check(str(_write(tmp_path, "tenants: &t [*t]\n")))
    assert result.exit_code == 2
    assert "nested more than 64 deep" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("KNOOPPUNT_HTTP_PORT", "abc", "setting http_port: Input should be a valid integer"),
        ("KNOOPPUNT_LAG_INTERVAL_S", "0", "setting lag_interval_s: Input should be greater"),
        ("KNOOPPUNT_BLOB_STORE", "s3://", "setting blob_store: s3://<bucket>[/<prefix>] needs"),
        ("KNOOPPUNT_S3_ENDPOINT_URL", "garbage", "setting s3_endpoint_url: must be an http"),
        # a role or a prefix out of form is said in words, never as a raw pattern (a trial)
        ("KNOOPPUNT_ROLES", "api,bogus", "setting roles: 'bogus' is not a role; give api,"),
        ("KNOOPPUNT_TOPIC_PREFIX", "bad prefix!", "setting topic_prefix: not in its form"),
    ],
)
def test_the_settings_run_refuses_are_refused_too(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    """Found by a new user: `KNOOPPUNT_HTTP_PORT=abc knooppunt config check` said ok, exit 0,
    where `run` refused the setting; each setting's problem is one line, with the config's."""
    path = _write(tmp_path, TENANT.replace('"00000001002564440000"', '"123"'))
    result = _check(str(path), env={variable: value})
    assert result.exit_code == 2, result.stdout
    assert result.stderr.splitlines() == [
        "error: configuration refused (2 problems):",
        f"  {variable}: {says}" + result.stderr.splitlines()[1].partition(says)[2],
        f"  {path}:4: tenants[0].oin: must be exactly 20 digits, got '123'",
    ]


def test_run_says_a_bad_setting_with_the_configs_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, TENANT.replace('"00000001002564440000"', '"123"'))
    run = subprocess.run(
        [KNOOPPUNT, "run", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KNOOPPUNT_BLOB_STORE": "s3://", "KNOOPPUNT_HTTP_PORT": "abc"},
    )
    assert run.returncode == 2, run.stderr
    assert "unexpected" not in run.stderr
    assert run.stderr.splitlines()[0] == "error: configuration refused (3 problems):"
    assert "  KNOOPPUNT_BLOB_STORE: setting blob_store: " in run.stderr
    assert "  KNOOPPUNT_HTTP_PORT: setting http_port: " in run.stderr
    assert f"  {path}:4: tenants[0].oin: " in run.stderr


def test_a_huge_value_is_echoed_cut_short(tmp_path: Path) -> None:
    """Found by a new user: a tenant id of 5 MB wrote 5,000,295 bytes to stderr."""
    huge = "9" * 5_000_000
    text = TENANT.replace('"0363"', f'"{huge}"') + (
        f"routes:\n  - tenant: '{huge}'\n    contract: nl.gemeente.formulier.ingediend\n"
        f"    to: ['{huge}']\n    when:\n      ? form.x{huge}\n      : a\n"
        f"clients:\n  - id: eforms\n    secret_env: X{huge}\n    tenants: ['{huge}']\n"
        f"? x{huge}\n: 1\n"  # a key longer than 1024 characters is written after '? '
    )
    result = _check("--no-secrets", str(_write(tmp_path, text)))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) >= 4, [line[:200] for line in lines]
    assert max(len(line) - len(str(tmp_path)) for line in lines) < 600, [x[:200] for x in lines]
    assert "9" * 79 + "…" in result.stderr


def test_a_number_too_long_for_python_is_a_problem_with_its_line(tmp_path: Path) -> None:
    """Found on the way: an unquoted 5,000-digit number was `unexpected ValueError` (Python
    reads at most 4,300 digits into an int)."""
    text = TENANT + f"routes:\n  - tenant: '0363'\n    to: [{'9' * 5000}]\n"
    path = _write(tmp_path, text)
    result = _check(str(path))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[1].startswith(f"  {path}:11: routes[0].to[0]: a number of")
