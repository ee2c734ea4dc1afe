"""Where things are in a YAML file: the line of every path, and issues that name file and line.
Shared by the config loader and the route tests, so both point at the same place the same way."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

import yaml

from hub.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Loc", "dotted", "explain", "issue_at", "read_yaml"]

Loc = tuple[str | int, ...]


def dotted(loc: Loc) -> str:
    """``("routes", 0, "to", 1)`` as ``routes[0].to[1]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def issue_at(path: Path, lines: dict[Loc, int], loc: Loc, message: str) -> ConfigIssue:
    """An issue at ``loc``, on the line of its nearest ancestor written in the file."""
    line = next((lines[loc[:end]] for end in range(len(loc), -1, -1) if loc[:end] in lines), None)
    return ConfigIssue(str(path), line, dotted(loc), message)


def read_yaml(path: Path) -> tuple[Any, dict[Loc, int]]:
    """A YAML file's data and the line of every path in it; ConfigError naming the file (and
    line) when it cannot be read or parsed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), None, "(file)", f"cannot read: {exc.strerror}")]
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        problem = f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        raise ConfigError([ConfigIssue(str(path), bad_line, "(file)", problem)]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError([ConfigIssue(str(path), line, "(syntax)", str(exc.problem))]) from exc
    if node is None:
        return None, {}
    lines = _line_index(path, node)
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:  # pragma: no cover - compose found the same first
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError([ConfigIssue(str(path), line, "(syntax)", str(exc.problem))]) from exc
    return data, lines


MAX_NODES = 100_000  # values in one file, aliases expanded: a config is a few thousand
MAX_DEPTH = 64  # nesting: a config is about 8 deep; an alias of its own parent never ends
_INT_TAG = "tag:yaml.org,2002:int"


def _too_long_number(node: yaml.Node) -> str | None:
    """Why a bare number cannot be read (Python reads at most ``sys.get_int_max_str_digits()``
    digits into an int; more was an unexpected ValueError); None for any other node."""
    limit = sys.get_int_max_str_digits()
    if isinstance(node, yaml.ScalarNode) and node.tag == _INT_TAG and len(node.value) > limit:
        return f"a number of more than {limit} digits; quote it if it is text"
    return None


def _line_index(path: Path, root: yaml.Node) -> dict[Loc, int]:
    """Every path in a composed YAML document mapped to its 1-based line (a mapping entry: its
    key's line). Refuses, on the way, what YAML accepts but a config must not be: a key written
    twice in one mapping (YAML keeps the last, silently: a second ``routes:`` dropped the
    first), a bare number too long for Python's int, aliases that expand past ``MAX_NODES``
    values (a "billion laughs" file hung the loader at 2.5 GB), and nesting past
    ``MAX_DEPTH`` (an alias of its own parent)."""
    issues: list[ConfigIssue] = []
    lines: dict[Loc, int] = {}
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if len(loc) > MAX_DEPTH:  # `a: &a [*a]` nests for ever: each path longer (22 GB)
            problem = f"nested more than {MAX_DEPTH} deep (an alias inside what it names?)"
            raise ConfigError([ConfigIssue(str(path), node.start_mark.line + 1, "(file)", problem)])
        lines.setdefault(loc, node.start_mark.line + 1)
        too_long = _too_long_number(node)
        if too_long is not None:
            issues.append(ConfigIssue(str(path), node.start_mark.line + 1, dotted(loc), too_long))
        if len(lines) > MAX_NODES:
            problem = f"more than {MAX_NODES} values once its aliases (*name) are expanded"
            raise ConfigError([ConfigIssue(str(path), None, "(file)", problem)])
        if isinstance(node, yaml.MappingNode):
            first_line: dict[object, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if key.value in first_line:
                    problem = (
                        f"written twice (first on line {first_line[key.value]}); YAML would "
                        "keep only this one"
                    )
                    issues.append(ConfigIssue(str(path), line, dotted((*loc, key.value)), problem))
                first_line.setdefault(key.value, line)
                lines.setdefault((*loc, key.value), line)
                stack.append((value, (*loc, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(node.value))
    if issues:
        raise ConfigError(sorted(issues, key=lambda issue: issue.line or 0))
    return lines


def explain(error: Any) -> str:
    """A pydantic error as a sentence for a person editing YAML (the pattern spelled out where
    it helps, a hint for unquoted digits)."""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "string_type" and isinstance(error.get("input"), int):
        return "must be text: quote it ('0363'), YAML reads bare digits as a number"
    if error["type"] == "extra_forbidden":
        return "unknown field (check the spelling)"
    if error["type"] == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        digits = re.fullmatch(r"\^\[0-9\]\{([0-9]+)\}\$", pattern)
        got = error.get("input")
        return f"must be exactly {digits.group(1)} digits, got {got!r}" if digits else message
    return message
