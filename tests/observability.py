"""Finding promtool and prometheus for the observability tests: absent, the test fails with the
command that installs them (CI installs them first: .ci/run), never skips."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import REPO

__all__ = ["INSTALL", "OBSERVABILITY", "tool"]

OBSERVABILITY = REPO / "deploy" / "observability"
INSTALL = "make observability-tools (Debian's prometheus package: apt-get install prometheus)"


def tool(name: str) -> str:
    """The path of ``name`` (promtool, prometheus), or the test fails saying how to install it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run: {INSTALL}", pytrace=False)
    return found
