"""Secrets by name: a connector's config names an environment variable, never holds a value.

A config field of type ``SecretName`` names the variable; ``Secrets.get`` reads it when it is
needed (so a rotated secret is picked up), and says which variable is missing, never a value.
Its name ends in ``_env`` (``token_env``, ``password_env``), and only a secret's does: that is how
``knooppunt config check`` finds the secrets a connector's settings name, to check they are set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from contracts.errors import KnooppuntError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["SecretMissingError", "SecretName", "Secrets"]

_SECRET_NAME = r"^[A-Z_][A-Z0-9_]*$"  # noqa: S105 - a pattern of names, not a secret
# A config field that names an environment variable holding a secret.
SecretName = Annotated[
    str, Field(pattern=_SECRET_NAME, description="Name of an environment variable.")
]


class SecretMissingError(KnooppuntError):
    """A secret's environment variable is not set (or empty). The message names the variable,
    never a value."""


@dataclass(frozen=True)
class Secrets:
    """Secrets by the name of the environment variable that holds them."""

    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> str:
        """The value of ``name``; SecretMissingError when unset or empty, ValueError when
        ``name`` is no environment variable name (``^[A-Z_][A-Z0-9_]*$``)."""
        if not re.fullmatch(_SECRET_NAME, name):
            raise ValueError(f"{name!r} is not an environment variable name")
        value = self.environ.get(name, "")
        if not value:
            raise SecretMissingError(f"environment variable {name} is not set")
        return value
