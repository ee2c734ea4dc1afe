"""Which abonnementen a notificatie goes to: Open Notificaties' filter rules, as plain functions.

Open Notificaties (``nrc.datamodel.models.match_pattern``) matches an abonnement's filters of a
kanaal against a notificatie's kenmerken like this, and so does the hub:

- every filter whose key the kenmerken have must hold: its value is ``*`` or equals the
  kenmerk's value exactly (case and all);
- a filter whose key the kenmerken do not have does not exclude the notificatie;
- no filters (or an empty map) takes every notificatie of the kanaal.

Keys are compared the way Open Notificaties ends up comparing them: its JSON parser turns every
key into snake_case and lowercases it, and matching turns both sides into camelCase, so
``zaak_type`` and ``zaakType`` are one key, ``BSN`` and ``bsn`` another, while ``zaaktype`` is a
third (``kenmerk_key``). Values are never changed.

A notificatie goes to an abonnement only for a tenant the abonnement belongs to (``delivers``):
a subscriber of one municipality never gets another's, whatever its filters.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from hub.notificaties.domain import Abonnement

__all__ = [
    "WILDCARD",
    "delivers",
    "filter_names_consistent",
    "filters_match",
    "kenmerk_key",
    "matches",
]

WILDCARD = "*"
# djangorestframework-camel-case's two rewrites, as Open Notificaties applies them to keys.
_TO_SNAKE = re.compile(
    r"([a-z0-9]|[A-Z]?(?=[A-Z0-9](?=[a-z0-9]|(?<![A-Z])$)))"
    r"([A-Z]|(?<=[a-z])[0-9](?=[0-9A-Z]|$)|(?<=[A-Z])[0-9](?=[0-9]|$))"
)
_TO_CAMEL = re.compile(r"[a-z0-9]?_[a-z0-9]")


def _camel(match: re.Match[str]) -> str:
    text = match.group()
    return text[0] + text[2].upper() if len(text) == 3 else text[1].upper()


def kenmerk_key(key: str) -> str:
    """A kenmerk's or filter's key as it is compared: snake_case, lowercased, then camelCase."""
    snake = _TO_SNAKE.sub(r"\1_\2", key).lower()
    return _TO_CAMEL.sub(_camel, snake) if "_" in snake else snake


def _normalised(pairs: Mapping[str, str]) -> dict[str, str]:
    return {kenmerk_key(key): value for key, value in pairs.items()}


def filters_match(filters: Mapping[str, str], kenmerken: Mapping[str, str]) -> bool:
    """Whether kenmerken pass one kanaal's filters (the rules above)."""
    given = _normalised(kenmerken)
    for key, wanted in _normalised(filters).items():
        if key in given and wanted not in (WILDCARD, given[key]):
            return False
    return True


def matches(abonnement: Abonnement, kanaal: str, kenmerken: Mapping[str, str]) -> bool:
    """Whether a notificatie of ``kanaal`` with ``kenmerken`` passes the filters of one of the
    abonnement's kanalen of that name. Tenants are not looked at: see ``delivers``."""
    return any(
        group.naam == kanaal and filters_match(group.filters, kenmerken)
        for group in abonnement.kanalen
    )


def delivers(
    abonnement: Abonnement, tenant: str, kanaal: str, kenmerken: Mapping[str, str]
) -> bool:
    """Whether a notificatie of ``tenant`` goes to ``abonnement``: the abonnement belongs to
    that tenant and ``matches``."""
    return tenant in abonnement.tenants and matches(abonnement, kanaal, kenmerken)


def filter_names_consistent(kanaal_filters: Collection[str], names: Iterable[str]) -> bool:
    """Open Notificaties' check of the kenmerken (or an abonnement's filter keys) against the
    filters a kanaal declares: all of the kanaal's, or only some of them, never a mix with
    others. A kanaal that declares none takes any."""
    declared = {kenmerk_key(name) for name in kanaal_filters}
    given = {kenmerk_key(name) for name in names}
    return declared <= given or given <= declared
