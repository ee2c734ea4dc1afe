"""Every log event the hub emits is listed in docs/logging.md (operators alert on these names)."""

from __future__ import annotations

import re

from tests.conftest import REPO

_EMITTED = re.compile(r"\blog\.(?:debug|info|warning|error)\(\s*\"([a-z_]+)\"", re.S)
_DOCUMENTED = re.compile(r"^\| `([a-z_]+)` \|", re.M)


def test_every_emitted_event_is_documented_and_every_documented_one_emitted() -> None:
    emitted = {
        name for path in (REPO / "hub").rglob("*.py") for name in _EMITTED.findall(path.read_text())
    }
    documented = set(_DOCUMENTED.findall((REPO / "docs" / "logging.md").read_text()))
    assert len(emitted) >= 10  # the scan really finds the calls
    assert emitted - documented == set(), "emitted but not in docs/logging.md"
    assert documented - emitted == set(), "documented but never emitted"
