"""Helpers for tests against a running hub."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from hub.config import HubConfig
from tests.conftest import DEMO_CONFIG

__all__ = ["form_route", "hub_config", "metric_value", "tenant_entry", "until", "wait_ready"]

FORM_SUBMITTED = "nl.gemeente.formulier.ingediend"
SECRETS = DEMO_CONFIG.parent / "secrets" / "demo-eformulieren.secret"


async def wait_ready(http: httpx.AsyncClient, timeout_s: float = 30.0) -> None:
    """Poll /readyz until the hub says ready (consumers assigned), or fail with its last answer."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = await http.get("/readyz")
            if last.status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"hub not ready after {timeout_s} s: {last.text if last else 'no answer'}")


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text exposition, 0 when absent."""
    for line in exposition.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def tenant_entry(tenant_id: str, destinations: dict[str, str | None]) -> dict[str, Any]:
    """A tenant whose destinations are webhooks (a fake's URL) or read their topic (None)."""
    return {
        "id": tenant_id,
        "name": f"Gemeente {tenant_id}",
        "oin": f"0000000100{tenant_id}000000",
        "rsin": f"00{tenant_id}000",
        "destinations": [
            {"name": name, "connector": "topic"}
            if url is None
            else {"name": name, "connector": "webhook", "settings": {"url": url, "timeout_s": 5}}
            for name, url in destinations.items()
        ],
    }


def hub_config(tenants: list[dict[str, Any]], routes: list[dict[str, Any]]) -> HubConfig:
    return HubConfig.model_validate(
        {
            "tenants": tenants,
            "clients": [
                {
                    "id": "demo-eformulieren",
                    "secret_file": str(SECRETS),
                    "tenants": [t["id"] for t in tenants],
                }
            ],
            "routes": routes,
            "delivery": {"retry_delays": ["1s", "2s", "3s"]},
        }
    )


def form_route(tenant: str, form: str, to: list[str]) -> dict[str, Any]:
    return {"tenant": tenant, "contract": FORM_SUBMITTED, "when": {"form.id": form}, "to": to}


async def until(condition: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
