"""Two tenants and the clients of a Notificaties API test: who publishes, who subscribes, for
which municipality, with which scopes. One secret for all (the demo's)."""

from __future__ import annotations

from typing import Any

from hub.config import HubConfig
from hub.http.auth import make_token
from tests.conftest import DEMO_SECRET
from tests.integration.helpers import SECRETS, tenant_entry

__all__ = [
    "CONSUMEREN",
    "PUBLICEREN",
    "ZAAK",
    "auth",
    "notificatie",
    "nrc_config",
    "nrc_config_data",
]

PUBLICEREN, CONSUMEREN = "notificaties.publiceren", "notificaties.consumeren"
ZAAK = "https://openzaak.example/zaken/api/v1/zaken/1f6a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
CLIENTS: dict[str, tuple[list[str], list[str]]] = {
    "openzaak-0363": (["0363"], [PUBLICEREN]),
    "zac-0363": (["0363"], [CONSUMEREN]),
    "zac-0599": (["0599"], [CONSUMEREN]),
    "openzaak-regio": (["0363", "0599"], [PUBLICEREN, CONSUMEREN]),
    "zonder-scopes": (["0363"], []),
}


def nrc_config_data() -> dict[str, Any]:
    """The config as YAML would hold it (tenant 0363: RSIN 000363000; 0599: 000599000)."""
    return {
        "tenants": [tenant_entry("0363", {}), tenant_entry("0599", {})],
        "clients": [
            {"id": client, "secret_file": str(SECRETS), "tenants": tenants, "scopes": scopes}
            for client, (tenants, scopes) in CLIENTS.items()
        ],
    }


def nrc_config() -> HubConfig:
    return HubConfig.model_validate(nrc_config_data())


def auth(client: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(client, DEMO_SECRET)}"}


def notificatie(resource: str = "status", **kenmerken: str) -> dict[str, Any]:
    return {
        "kanaal": "zaken",
        "hoofdObject": ZAAK,
        "resource": resource,
        "resourceUrl": f"https://openzaak.example/zaken/api/v1/{resource}en/7d8e9f0a",
        "actie": "create",
        "aanmaakdatum": "2026-11-29T10:20:00+01:00",
        "kenmerken": kenmerken,
    }
