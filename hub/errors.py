"""The runtime's exceptions, on the root drawn in ``contracts.errors`` (re-exported here)."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "ContractError",
    "KnooppuntError",
    "UnroutedError",
    "UsageError",
]

from dataclasses import dataclass

from contracts.errors import ContractError, KnooppuntError


@dataclass(frozen=True)
class ConfigIssue:
    """One thing wrong in a config file: where, which field, and what is allowed."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


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
