"""A CLI error is one line naming what it concerns, exit 2, never a traceback (found by a new
user: a config that is not UTF-8, an impossible cluster port, an unwritable folder)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.processes import KNOOPPUNT


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KNOOPPUNT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={**os.environ, "KNOOPPUNT_DATA_DIR": str(cwd or Path.cwd())},
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: "), result.stderr
    return result.stderr


def test_a_config_that_is_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_bytes(b'tenants:\n  - id: "\xff"\n')
    stderr = _one_line_error(_run("config", "check", str(config)))
    assert f"{config}:2: (file): not UTF-8 text" in stderr


def test_an_impossible_cluster_port_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    data = tmp_path / "kafka"
    args = ("kafka", "up", "--nodes", "3", "--port", "65534", "--data-dir", str(data))
    stderr = _one_line_error(_run(*args))
    assert "65534..65539" in stderr
    assert not data.exists()


@pytest.mark.parametrize("port", ["0", "70000"])
def test_a_port_out_of_range_is_refused(port: str, tmp_path: Path) -> None:
    result = _run("kafka", "up", "--port", port, "--data-dir", str(tmp_path / "k"))
    assert result.returncode == 2
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_export_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    stderr = _one_line_error(_run("contracts", "export", str(blocker / "below")))
    assert str(blocker) in stderr
