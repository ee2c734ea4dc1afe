"""The hub under measurement: ``knooppunt run`` in a process of its own, with a generated config.

The hub is started exactly as an operator starts it (``knooppunt run``: uvicorn, JSON logs at
INFO, by default the router and every delivery consumer in the one process; ``roles`` narrows it
as ``--role`` does). Its log goes to
``.knooppunt/bench/logs/<name>.log``.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from benchmarks.processes import BENCH_DIR, REPO, VENV_BIN, Child, running, wait_until_ok
from connectors.registry import sink_connector
from hub.config import DeliveryPolicy, Destination
from tests.kafka_under_test import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from benchmarks.backoffice import BackOffice

__all__ = [
    "DEMO_CONFIG",
    "DEMO_SECRET_FILE",
    "RunningHub",
    "form_for",
    "fresh_prefix",
    "hub_process",
    "in_flight_setting",
    "tenant_id",
    "webhook_config",
]

DEMO_CONFIG = REPO / "deploy" / "demo" / "config.yaml"
DEMO_SECRET_FILE = REPO / "deploy" / "demo" / "secrets" / "demo-eformulieren.secret"
CLIENT_ID = "demo-eformulieren"
DESTINATIONS = ("zaaksysteem", "archief", "parkeren")


def fresh_prefix(what: str) -> str:
    """A topic prefix no earlier run used, so every run starts from empty topics and groups."""
    return f"bench-{what}-{uuid.uuid4().hex[:6]}."


def in_flight_setting() -> str | None:
    """Where the hub's config takes ``max_in_flight``: ``"delivery"`` (the delivery policy, for
    every destination), ``"destination"`` (a destination's own field), ``"settings"`` (the
    webhook connector's settings), or None when it takes none."""
    if "max_in_flight" in DeliveryPolicy.model_fields:
        return "delivery"
    if "max_in_flight" in Destination.model_fields:
        return "destination"
    spec = sink_connector("webhook")
    if spec is not None and "max_in_flight" in spec.config.model_fields:
        return "settings"
    return None


def form_for(destination: str) -> str:
    """The form id the generated routes send to ``destination`` (and to it alone)."""
    return f"bench-{destination}"


def tenant_id(index: int) -> str:
    return f"{index + 1:04d}"


def webhook_config(
    tenants: int,
    destinations: int,
    backoffice: BackOffice,
    max_in_flight: int | None = None,
) -> dict[str, Any]:
    """``tenants`` tenants with ``destinations`` webhook destinations each, all pointing at
    ``backoffice`` (``/<tenant>-<destination>``), a route per destination sending it the e-forms
    submissions of form ``form_for(destination)``, and the demo client (its secret file) bound to
    every tenant."""
    where = in_flight_setting() if max_in_flight is not None else None
    ids = [tenant_id(i) for i in range(tenants)]

    def destination(tenant: str, name: str) -> dict[str, Any]:
        settings: dict[str, Any] = {"url": backoffice.url(f"{tenant}-{name}")}
        if where == "settings":
            settings["max_in_flight"] = max_in_flight
        entry: dict[str, Any] = {"name": name, "connector": "webhook", "settings": settings}
        if where == "destination":
            entry["max_in_flight"] = max_in_flight
        return entry

    names = DESTINATIONS[:destinations]
    delivery = {"delivery": {"max_in_flight": max_in_flight}} if where == "delivery" else {}
    return {
        **delivery,
        "tenants": [
            {
                "id": tenant,
                "name": f"Bench gemeente {tenant}",
                "oin": f"00000001{int(tenant):012d}",
                "rsin": f"{int(tenant):09d}",
                "destinations": [destination(tenant, name) for name in names],
            }
            for tenant in ids
        ],
        "clients": [{"id": CLIENT_ID, "secret_file": str(DEMO_SECRET_FILE), "tenants": ids}],
        "routes": [
            {
                "tenant": tenant,
                "contract": "nl.gemeente.formulier.ingediend",
                "when": {"form.id": form_for(name)},
                "to": [name],
            }
            for tenant in ids
            for name in names
        ],
    }


@dataclass(frozen=True)
class RunningHub:
    child: Child
    port: int
    prefix: str
    ready_after_s: float

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def write_config(name: str, config: dict[str, Any]) -> Path:
    path = BENCH_DIR / "configs" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@contextmanager
def hub_process(
    name: str,
    config: Path,
    bootstrap: str,
    prefix: str,
    ready_timeout_s: float = 120.0,
    roles: str | None = None,
) -> Iterator[RunningHub]:
    """``knooppunt run --config config`` on a free port, topics under ``prefix``, logging at INFO,
    with ``--role roles`` when given (else every role); yields once /readyz answers 200
    (``ready_after_s``: seconds since the process started)."""
    port = free_port()
    env = {
        "KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KNOOPPUNT_TOPIC_PREFIX": prefix,
        "KNOOPPUNT_LOG_LEVEL": "INFO",
    }
    argv = [str(VENV_BIN / "knooppunt"), "run", "--config", str(config), "--port", str(port)]
    if roles is not None:
        argv += ["--role", roles]
    with running(argv, name, env=env, stop_timeout_s=60) as child:
        ready = wait_until_ok(child, f"http://127.0.0.1:{port}/readyz", ready_timeout_s, 0.1)
        yield RunningHub(child, port, prefix, ready)
