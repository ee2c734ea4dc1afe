"""Every regular expression that checks input says which digits and letters it means.

Python's ``\\d`` and ``\\w`` (and pydantic's Rust regex engine) match any script's digits and
letters; ``int()`` reads full-width or Arabic-Indic digits as the same number. So
"９９９９９３６５３" passed as a BSN and "０３６３" as a tenant id (issue 8).
Identifiers are ASCII: a pattern in ``hub/``, ``contracts/`` or ``connectors/`` spells its
classes out (``[0-9]``, ``[A-Za-z0-9_]``) or compiles with ``re.ASCII``.
The few that mean something else are listed here, with why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "contracts", "connectors")
_UNICODE_CLASSES = re.compile(r"(?<!\\)(?:\\\\)*\\[dwb]", re.ASCII)
_RE_FUNCTIONS = {"compile", "match", "fullmatch", "search", "sub", "subn", "findall", "split"}

# (file, the pattern's text): why it may keep a Unicode class.
ALLOWED = {
    ("hub/observability/redaction.py", r"(?<!\d)\d{9}(?!\d)"): "masks nine-digit runs in log "
    "text: any script's digits is the safer side for redaction",
    (
        "hub/observability/redaction.py",
        r"\b[A-Z]{2}\d{2}[ ]?[A-Z]{4}[ ]?(?:\d{4}[ ]?){2}\d{2,4}\b",
    ): "masks IBANs in shown payloads: any script's digits is the safer side for redaction",
    (
        "hub/observability/redaction.py",
        r"(?<![\d+])(?:\+31|0031|0)[\s-]?\(?\d\)?(?:[\s-]?\d){8}(?!\d)",
    ): "masks phone numbers in shown payloads: any script's digits is the safer side for redaction",
    ("contracts/formulier/v1.py", r"^[\w.+-]+/[\w.+-]+$"): "published in v1's schema, where "
    "(ECMA-262) \\w is ASCII; the field also has the ascii_text validator",
}


def _patterns(tree: ast.AST) -> list[tuple[str, bool]]:
    """Each regex literal in the module: its text, and whether it is compiled with re.ASCII."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value if isinstance(func, ast.Attribute) else None
        is_re = name in _RE_FUNCTIONS and isinstance(owner, ast.Name) and owner.id == "re"
        if is_re and node.args and isinstance(node.args[0], ast.Constant):
            flags = ast.unparse(node)
            found.append((str(node.args[0].value), "re.ASCII" in flags or "re.A)" in flags))
        for keyword in node.keywords:
            if keyword.arg == "pattern" and isinstance(keyword.value, ast.Constant):
                found.append((str(keyword.value.value), False))
    return found


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def test_the_scan_finds_the_patterns_it_is_about() -> None:
    tree = ast.parse('import re\nA = re.compile(r"\\d{4}")\nB = Field(pattern=r"^\\w+$")\n')
    assert _patterns(tree) == [(r"\d{4}", False), (r"^\w+$", False)]
    assert _patterns(ast.parse('import re\nre.compile(r"\\d", re.ASCII)')) == [(r"\d", True)]
    assert not _UNICODE_CLASSES.search(r"^\\d$")  # an escaped backslash, then a d


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_pattern_takes_any_scripts_digits_or_letters(path: Path) -> None:
    where = str(path.relative_to(REPO))
    offending = [
        pattern
        for pattern, ascii_flag in _patterns(ast.parse(path.read_text()))
        if _UNICODE_CLASSES.search(pattern) and not ascii_flag and (where, pattern) not in ALLOWED
    ]
    assert offending == [], (
        f"{where}: spell out [0-9] / [A-Za-z0-9_] or pass re.ASCII (or list it in ALLOWED, "
        "with why)"
    )
