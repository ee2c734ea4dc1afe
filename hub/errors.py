"""The runtime's exceptions, on the root drawn in ``contracts.errors`` (re-exported here)."""

from __future__ import annotations

__all__ = [
    "MAX_VALUE_CHARS",
    "ConfigError",
    "ConfigIssue",
    "ContractError",
    "KnooppuntError",
    "UnroutedError",
    "UsageError",
    "cut",
]

import re
from dataclasses import dataclass

from contracts.errors import ContractError, KnooppuntError

MAX_VALUE_CHARS = 80  # a value echoed in an error line (an id, a key, a path in the config)
MAX_LINE_CHARS = 600  # a problem's field or message as a whole (a list of known names)
_LONG_WORD = re.compile(rf"\S{{{MAX_VALUE_CHARS + 1},}}")


def _cut_word(word: str) -> str:
    if "/" in word:  # a file's path is said whole (the line's limit still holds)
        return word
    return word[: MAX_VALUE_CHARS - 1] + "…"


def cut(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """``text`` for an error line: each run of more than ``MAX_VALUE_CHARS`` characters without
    a space (an echoed value: a 5 MB tenant id) cut to that with an ellipsis, a path excepted;
    then the whole to ``limit`` characters. Short text comes back as it is."""
    text = _LONG_WORD.sub(lambda long: _cut_word(long.group()), text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ConfigIssue:
    """One thing wrong in a config file: where, which field, and what is allowed. Said
    (``str``) with the values it echoes cut short (``cut``): a line stays a line."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {cut(self.field)}: {cut(self.message)}"


class ConfigError(KnooppuntError):
    """A config file was refused; ``issues`` lists every problem found, each with its place."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        count = f"{len(issues)} problem{'s' if len(issues) != 1 else ''}"
        super().__init__(f"configuration refused ({count}):\n{lines}")


class UsageError(KnooppuntError):
    """What a command was asked cannot work as asked: an unknown tenant, client or destination,
    a port already taken, an option out of range. The message says what to give instead; the
    ``knooppunt`` command exits 2 (hub.cli.errors)."""


class UnroutedError(KnooppuntError):
    """An event matched no route of a tenant that dead-letters unrouted events."""

    field: str | None = None
