"""Every command, tried as a new user would: an error is one line that says what to do, the exit
code says whose move it is (2: change the command, a file, the config or a setting; 1: what the
command needs failed or did not answer), and there is never a traceback unless --debug asks.

Each case was found by a new user (issue 11, part 7). Cases with nothing listening run the real
`knooppunt` in its own process: a library's log lines (aiokafka's "Unable connect to ...") and
resource warnings only show there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hub.cli.errors import move_debug_flag
from hub.cli.main import app
from tests.conftest import DEMO_CONFIG
from tests.integration.processes import KNOOPPUNT
from tests.kafka_under_test import free_port

NOTHING_LISTENS = {  # ports nothing listens on: Kafka and the hub are both "down"
    "KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
    "KNOOPPUNT_HTTP_PORT": str(free_port()),
}


def _cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, prog_name="knooppunt")


def _process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KNOOPPUNT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _one_line(code: int, stderr: str, exit_code: int) -> str:
    """The one error line (asserting there is nothing else on stderr, and no traceback)."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert exit_code == code, stderr
    return lines[0]


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    shutil.copytree(DEMO_CONFIG.parent, tmp_path / "demo")
    return tmp_path / "demo" / "config.yaml"


def test_demo_without_a_hub_says_to_start_one() -> None:
    result = _process("demo", "--config", str(DEMO_CONFIG), env=NOTHING_LISTENS)
    line = _one_line(1, result.stderr, result.returncode)
    port = NOTHING_LISTENS["KNOOPPUNT_HTTP_PORT"]
    assert f"the hub at http://127.0.0.1:{port} does not answer" in line
    assert "make run" in line


@pytest.mark.parametrize(
    "args",
    [
        ("dlq", "list", "--tenant", "0363"),
        ("dlq", "replay", "--tenant", "0363", "--dry-run"),
        ("dlq", "show", "--tenant", "0363", "0:1"),
    ],
)
def test_dlq_with_kafka_down_is_one_line(args: tuple[str, ...]) -> None:
    result = _process(*args, env=NOTHING_LISTENS)
    line = _one_line(1, result.stderr, result.returncode)
    bootstrap = NOTHING_LISTENS["KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS"]
    assert line == (
        f"error: Kafka at {bootstrap} does not answer; start the local broker with 'knooppunt "
        "kafka up', or set KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS to your cluster"
    )


def test_destinations_status_without_a_hub() -> None:
    result = _cli("destinations", "status", env=NOTHING_LISTENS)
    line = _one_line(1, result.stderr, result.exit_code)
    assert "does not answer (ConnectError); is it running?" in line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("dlq", "list", "--tenant", "abc"), "--tenant is a CBS gemeentecode of four digits"),
        (("dlq", "show", "--tenant", "0363", "garbage"), "named as partition:offset ('0:12')"),
        (("dlq", "replay", "-t", "0363", "--offset", "x"), "named as partition:offset"),
        (("dlq", "list"), "Missing option '--tenant' / '-t' (see 'knooppunt dlq list --help')"),
        (("nosuch",), "No such command 'nosuch' (see 'knooppunt --help')"),
        (("token", "--client", "nope"), "no API client 'nope' (clients: demo-eformulieren)"),
    ],
)
def test_a_wrong_command_line_is_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    result = _cli(*args, env=NOTHING_LISTENS)  # refused before anything is asked of Kafka
    assert says in _one_line(2, result.stderr, result.exit_code)


def test_a_token_of_a_garbage_secret_file_names_file_and_line(config_copy: Path) -> None:
    secret = config_copy.parent / "secrets" / "demo-eformulieren.secret"
    secret.write_bytes(bytes(range(128, 192)))  # not text: was "'utf-8' codec can't decode"
    result = _cli("token", "--config", str(config_copy))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "codec" not in result.stderr
    assert f"{config_copy}:25: clients[0].secret_file: {secret} is not UTF-8 text" in result.stderr


def test_a_setting_out_of_range_names_its_variable() -> None:
    result = _cli("demo", env={"KNOOPPUNT_HTTP_PORT": "eighty"})
    line = _one_line(2, result.stderr, result.exit_code)
    assert line.startswith("error: setting http_port (KNOOPPUNT_HTTP_PORT): ")


class _Exploding:
    def __iter__(self) -> object:
        raise RuntimeError("the registry broke")


def test_a_bug_is_one_line_naming_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connectors.registry.CONNECTORS", _Exploding())
    result = _cli("connectors", "list")
    line = _one_line(1, result.stderr, result.exit_code)
    assert line == (
        "error: unexpected RuntimeError: the registry broke (run again with --debug (or "
        "KNOOPPUNT_DEBUG=1) for the traceback)"
    )


@pytest.mark.parametrize("how", ["option", "variable"])
def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setattr("connectors.registry.CONNECTORS", _Exploding())
    if how == "option":  # typed last, as a user would add it to the command that failed
        result = _cli(*move_debug_flag(["connectors", "list", "--debug"]))
    else:
        result = _cli("connectors", "list", env={"KNOOPPUNT_DEBUG": "1"})
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: the registry broke" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: unexpected RuntimeError")


def test_the_debug_flag_moves_to_the_front_but_not_past_a_double_dash() -> None:
    assert move_debug_flag(["dlq", "list", "--debug"]) == ["--debug", "dlq", "list"]
    assert move_debug_flag(["dlq", "--", "--debug"]) == ["dlq", "--", "--debug"]
    assert move_debug_flag(["contracts", "list"]) == ["contracts", "list"]


@pytest.mark.parametrize(
    "url", ["localhost:8000", "ht!tp://x y", "http://127.0.0.1:abc", "http://[::1"]
)
@pytest.mark.parametrize(
    "args",
    [
        ("destinations", "status"),
        ("abonnementen", "list", "--tenant", "0363"),
        ("abonnementen", "show", "--tenant", "0363", "00000000-0000-0000-0000-000000000000"),
        ("demo", "--config", str(DEMO_CONFIG)),
    ],
)
def test_a_hub_url_that_is_not_one_is_a_usage_error(args: tuple[str, ...], url: str) -> None:
    """Found by a new user: `destinations status --url localhost:8000` said the hub "does not
    answer" (exit 1); every --url is checked before anything is asked."""
    result = _cli(*args, "--url", url, env=NOTHING_LISTENS)
    line = _one_line(2, result.stderr, result.exit_code)
    assert "Invalid value for '--url'" in line
    assert "http://127.0.0.1:8080" in line
