"""Every exception Knooppunt raises on purpose, drawn once, in one place."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "ContractError",
    "KnooppuntError",
    "UnroutedError",
]

from dataclasses import dataclass


class KnooppuntError(Exception):
    """Base of every error Knooppunt raises on purpose."""


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


class ContractError(KnooppuntError):
    """An event does not match its contract (unknown type, bad envelope or invalid payload).

    ``field`` names the offending field (dotted path) where one is known.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class UnroutedError(KnooppuntError):
    """An event matched no route of a tenant that dead-letters unrouted events."""

    field: str | None = None
