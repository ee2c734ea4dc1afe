"""Whose a notificatie is, and who may see an abonnement: plain decisions on tenants.

A notificatie belongs to the tenant of the client that publishes it. A client acting for
several tenants (one Open Zaak for a samenwerkingsverband) says which with the notificatie's
``kenmerken.bronorganisatie``: the RSIN of one of its tenants. Missing, or not the RSIN of a
tenant the client acts for, is refused naming that field; an RSIN of a tenant the client does
not act for is refused the same way as one no tenant has, so a client learns nothing about the
hub's other tenants.

An abonnement belongs to the tenants of the client that created it; a client sees (lists,
reads, changes, removes) an abonnement only when it acts for every one of those tenants. Sharing
one is not enough: a client of Amsterdam alone could otherwise point an abonnement of a regional
supplier (Amsterdam and Rotterdam) at its own callback and receive Rotterdam's notificaties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from hub.notificaties.domain import Abonnement

__all__ = ["BRONORGANISATIE", "TenantRefusedError", "may_see", "tenant_of_notificatie"]

BRONORGANISATIE = "bronorganisatie"


@dataclass(frozen=True)
class TenantRefusedError(Exception):
    """The notificatie names no tenant its client acts for: ``field`` and ``code`` for the
    400's invalidParams, ``reason`` in words."""

    field: str
    code: str
    reason: str


def tenant_of_notificatie(
    client_tenants: Collection[str],
    rsin_of: Mapping[str, str],
    kenmerken: Mapping[str, str],
) -> str:
    """The tenant a notificatie belongs to. ``client_tenants``: the tenants its client acts for
    (in config order); ``rsin_of``: tenant id -> RSIN. Raises TenantRefusedError."""
    tenants = list(client_tenants)
    if len(tenants) == 1:
        return tenants[0]
    field = f"kenmerken.{BRONORGANISATIE}"
    rsin = kenmerken.get(BRONORGANISATIE)
    if not rsin:
        raise TenantRefusedError(
            field,
            "required",
            "this client acts for several tenants: name the one this notificatie is of by its "
            "RSIN in kenmerken.bronorganisatie",
        )
    for tenant in tenants:
        if rsin_of.get(tenant) == rsin:
            return tenant
    raise TenantRefusedError(
        field, "invalid", "not the RSIN of a tenant this client acts for (tenants' config, rsin)"
    )


def may_see(client_tenants: Collection[str], abonnement: Abonnement) -> bool:
    """Whether a client acting for ``client_tenants`` may see ``abonnement``: it acts for every
    tenant the abonnement belongs to."""
    return set(abonnement.tenants) <= set(client_tenants)
