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

__all__ = ["SecretMissingError", "SecretName", "Secrets", "secret_problem", "secret_text_problem"]

_SECRET_NAME = r"^[A-Z_][A-Z0-9_]*$"  # noqa: S105 - a pattern of names, not a secret
# A config field that names an environment variable holding a secret.
SecretName = Annotated[
    str, Field(pattern=_SECRET_NAME, description="Name of an environment variable.")
]


class SecretMissingError(KnooppuntError):
    """A secret's environment variable is not set, empty, or holds what no secret can be (not
    UTF-8, a control character). The message names the variable, never a value."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def secret_problem(environ: Mapping[str, str], name: str) -> str | None:
    """Why the environment variable ``name`` cannot be used as a secret, or None: unset or
    empty; not UTF-8 (Python hands such bytes over as surrogates, which no header, JWT or
    SMTP login can carry); a control character such as a line break (refused in an HTTP
    header, RFC 9110 section 5.5). The sentence names the variable, never the value."""
    value = environ.get(name, "")
    if not value:
        return f"environment variable {name} is not set"
    problem = secret_text_problem(value)
    return None if problem is None else f"environment variable {name} {problem}"


def secret_text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a secret (the end of a sentence: "is not UTF-8 text", "holds a
    control character (a line break?)"), or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not UTF-8 text"
    if _CONTROL.search(value):
        return "holds a control character (a line break?)"
    return None


@dataclass(frozen=True)
class Secrets:
    """Secrets by the name of the environment variable that holds them."""

    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> str:
        """The value of ``name``; SecretMissingError when it cannot be used (``secret_problem``:
        unset, empty, not UTF-8, a control character), ValueError when ``name`` is no
        environment variable name (``^[A-Z_][A-Z0-9_]*$``)."""
        if not re.fullmatch(_SECRET_NAME, name):
            raise ValueError(f"{name!r} is not an environment variable name")
        problem = secret_problem(self.environ, name)
        if problem is not None:
            raise SecretMissingError(problem)
        return self.environ[name]
