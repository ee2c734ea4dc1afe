"""The connector SDK seen from the hub: layers, the registry, config checks, generated docs,
HTTP client auth and bounded connector metrics."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import BaseModel, ConfigDict

import hub.config.checks
import hub.config.models
from connectors.registry import CONNECTORS, sink_connector
from connectors.sdk import (
    ConnectorSpec,
    HeaderAuth,
    HttpClients,
    HttpError,
    HttpRequest,
    HttpResponse,
    MockTransport,
    OAuth2ClientCredentials,
    SecretMissingError,
    Secrets,
    SinkSpec,
    SourceSpec,
    ZgwJwtAuth,
)
from connectors.sdk.docs import render_connectors_doc
from connectors.sdk.http_auth import TokenRefusedError
from hub.config import HubConfig, load_config
from hub.connector_host.context import MAX_SERIES_PER_CONNECTOR, BoundedConnectorMetrics
from hub.errors import ConfigError
from hub.observability.metrics import Metrics
from tests.conftest import REPO

SECRET = "s" * 32


def _contract(name: str) -> dict[str, Any]:
    table = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in table["contracts"] if c["type"] == name)


def test_every_connector_folder_is_in_the_import_linter_contracts() -> None:
    folders = {
        f"connectors.{path.parent.name}"
        for path in (REPO / "connectors").glob("*/__init__.py")
        if path.parent.name != "sdk"
    }
    assert "connectors.webhook" in folders  # the scan finds the folders
    assert set(_contract("protected")["protected_modules"]) == folders
    assert set(_contract("independence")["modules"]) == folders


def test_every_connector_folder_is_registered_once() -> None:
    folders = {p.parent.name for p in (REPO / "connectors").glob("*/__init__.py")} - {"sdk"}
    names = [spec.name for spec in CONNECTORS]
    assert len(names) == len(set(names))
    declared: dict[str, list[ConnectorSpec]] = {
        folder: [
            value
            for value in vars(importlib.import_module(f"connectors.{folder}")).values()
            if isinstance(value, SinkSpec | SourceSpec)
        ]
        for folder in folders
    }
    assert all(declared.values()), f"folders declaring no connector: {declared}"
    assert sorted(s.name for specs in declared.values() for s in specs) == sorted(names)


def test_the_sdk_does_not_import_pytest_at_runtime() -> None:
    code = (
        "import sys, connectors.sdk, connectors.sdk.conformance, connectors.registry; "
        "print('pytest' in sys.modules, 'hub' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.split() == ["False", "False"]


class _NoSettings(BaseModel):
    """No settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ZAKEN_ONLY = SinkSpec(
    name="zaken-only", config=_NoSettings, summary="test", accepts=("nl.overheid.zaken",)
)


def test_a_route_to_a_sink_that_does_not_accept_its_contract_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lookup(name: str) -> SinkSpec | None:
        return ZAKEN_ONLY if name == "zaken-only" else sink_connector(name)

    monkeypatch.setattr(hub.config.models, "sink_connector", lookup)
    monkeypatch.setattr(hub.config.checks, "sink_connector", lookup)
    path = tmp_path / "hub.yaml"
    path.write_text(
        """\
tenants:
  - id: "0363"
    name: Amsterdam
    oin: "00000001002564440000"
    rsin: "002564440"
    destinations:
      - {name: zaken, connector: zaken-only}
      - {name: archief, connector: topic}
routes:
  - tenant: "0363"
    contract: nl.overheid.zaken
    to: [zaken, archief]
  - tenant: "0363"
    contract: nl.gemeente.brp.persoon-gewijzigd
    to: [archief, zaken]
"""
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (issue,) = caught.value.issues
    assert (issue.line, issue.field) == (15, "routes[1].to[1]")
    assert issue.message == (
        "destination 'zaken' (connector zaken-only) does not accept "
        "nl.gemeente.brp.persoon-gewijzigd; it accepts: nl.overheid.zaken"
    )


def test_family_prefixes_cover_their_members_only() -> None:
    assert ZAKEN_ONLY.accepts_contract("nl.overheid.zaken")
    assert ZAKEN_ONLY.accepts_contract("nl.overheid.zaken.zaak.create")
    assert not ZAKEN_ONLY.accepts_contract("nl.overheid.zakenregister")
    assert not ZAKEN_ONLY.accepts_contract("nl.overheid")  # a whole wider family


def test_the_reference_names_every_connector_and_setting(demo_config: HubConfig) -> None:
    text = render_connectors_doc(CONNECTORS)
    for spec in CONNECTORS:
        assert f"## `{spec.name}` ({spec.kind})" in text
        for field in spec.config.model_fields:
            assert f"| `{field}` |" in text
    assert "(> 0, <= 120)" in text  # constraints come from the model
    assert text == (REPO / "docs" / "connectors.md").read_text()


async def _sent(auth: object, environ: dict[str, str], answer: int = 200) -> list[HttpRequest]:
    seen: list[HttpRequest] = []

    def handle(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse(answer)

    clients = HttpClients(Secrets(environ), MockTransport(handle))
    async with clients.client(auth=auth, timeout_s=5) as client:  # type: ignore[arg-type]
        await client.get("https://api.example/zaken")
    return seen


async def test_header_auth_reads_its_secret_per_request() -> None:
    (request,) = await _sent(HeaderAuth(header="X-Api-Key", value_env="KEY"), {"KEY": "k1"})
    assert request.headers["X-Api-Key"] == "k1"
    with pytest.raises(SecretMissingError, match="KEY is not set"):
        await _sent(HeaderAuth(header="X-Api-Key", value_env="KEY"), {})
    not_utf8 = b"k\xff".decode("utf-8", "surrogateescape")  # as os.environ hands it over
    with pytest.raises(SecretMissingError, match="KEY is not UTF-8 text"):
        await _sent(HeaderAuth(header="X-Api-Key", value_env="KEY"), {"KEY": not_utf8})
    with pytest.raises(SecretMissingError, match="KEY holds a control character"):
        await _sent(HeaderAuth(header="X-Api-Key", value_env="KEY"), {"KEY": "k1\r\nX-Evil: 1"})


async def test_zgw_jwt_carries_the_claims_zgw_apis_check() -> None:
    auth = ZgwJwtAuth(client_id="knooppunt-0363", secret_env="ZGW_SECRET", user_id="svc")
    (request,) = await _sent(auth, {"ZGW_SECRET": SECRET})
    scheme, _, token = request.headers["Authorization"].partition(" ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert scheme == "Bearer"
    assert claims["iss"] == claims["client_id"] == "knooppunt-0363"
    assert (claims["user_id"], claims["user_representation"]) == ("svc", "Knooppunt")
    assert isinstance(claims["iat"], int)


class _AuthServer:
    """A token endpoint plus an API, as a MockTransport handler."""

    def __init__(self, expires_in: int = 3600, token_status: int = 200) -> None:
        self.tokens_issued = 0
        self.revoked: set[str] = set()
        self.expires_in, self.token_status = expires_in, token_status
        self.api_calls: list[str] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.url.endswith("/token"):
            assert request.headers["Authorization"].startswith("Basic ")
            assert b"grant_type=client_credentials" in (request.body or b"")
            if self.token_status != 200:
                return HttpResponse(self.token_status)
            self.tokens_issued += 1
            token = f"t{self.tokens_issued}"
            answer = {"access_token": token, "expires_in": self.expires_in}
            return HttpResponse.of(200, json=answer)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.api_calls.append(token)
        return HttpResponse(401 if token in self.revoked else 200)


OAUTH = OAuth2ClientCredentials(
    token_url="https://auth.example/token", client_id="knooppunt", client_secret_env="OAUTH"
)


async def test_oauth2_client_credentials_fetches_once_and_caches_until_expiry() -> None:
    server = _AuthServer()
    clients = HttpClients(Secrets({"OAUTH": SECRET}), MockTransport(server))
    async with clients.client(auth=OAUTH) as client:
        statuses = [(await client.get("https://api.example/x")).status for _ in range(3)]
        server.revoked.add("t1")  # revoked early: one new token, the request is sent again
        statuses.append((await client.get("https://api.example/x")).status)
    assert statuses == [200, 200, 200, 200]
    assert server.api_calls == ["t1", "t1", "t1", "t1", "t2"]
    assert server.tokens_issued == 2


async def test_an_expired_token_is_replaced_before_use() -> None:
    server = _AuthServer(expires_in=10)  # within the early-refresh margin: never reused
    clients = HttpClients(Secrets({"OAUTH": SECRET}), MockTransport(server))
    async with clients.client(auth=OAUTH) as client:
        await client.get("https://api.example/x")
        await client.get("https://api.example/x")
    assert server.api_calls == ["t1", "t2"]


async def test_a_refused_token_request_is_an_http_error_with_its_status() -> None:
    clients = HttpClients(Secrets({"OAUTH": SECRET}), MockTransport(_AuthServer(token_status=401)))
    async with clients.client(auth=OAUTH) as client:
        with pytest.raises(TokenRefusedError) as caught:
            await client.get("https://api.example/x")
    assert isinstance(caught.value, HttpError)  # retryable, like any request without an answer
    assert caught.value.status == 401


def _counted(metrics: Metrics) -> dict[tuple[str, str], float]:
    return {
        (s.labels["name"], s.labels["outcome"]): s.value
        for family in metrics.registry.collect()
        if family.name == "knooppunt_connector_events"
        for s in family.samples
        if s.name.endswith("_total")
    }


def test_connector_metrics_keep_their_labels_bounded() -> None:
    metrics = Metrics()
    hook = BoundedConnectorMetrics(metrics, "webhook", "0363", "zaken")
    hook.count("token_fetch", "ok")
    hook.count("token_fetch", "ok")
    hook.count("lookup", "999993653")  # not a word: never a label
    for n in range(MAX_SERIES_PER_CONNECTOR + 5):
        hook.count(f"step_{n}", "ok")
    counted = _counted(metrics)
    assert counted[("token_fetch", "ok")] == 2
    assert not any("999993653" in name or "999993653" in o for name, o in counted)
    # token_fetch, other (the bad one) and step_0..step_29 fill the 32 series; the 7 later
    # steps are counted as other too.
    assert len(counted) == MAX_SERIES_PER_CONNECTOR
    assert ("step_29", "ok") in counted
    assert ("step_30", "ok") not in counted
    assert counted[("other", "other")] == 1 + 7


def test_a_checkpoint_record_the_hub_did_not_write_is_passed_over() -> None:
    from hub.connector_host.checkpoints import _remember  # noqa: PLC0415

    found: dict[str, str] = {}
    _remember(found, b"poller:0363", b"42")
    _remember(found, b"\xc3\x28", b"1")  # not UTF-8: a hostile record, never fatal
    _remember(found, b"poller:0599", b"\xff")
    _remember(found, None, b"7")
    assert found == {"poller:0363": "42"}
    _remember(found, b"poller:0363", None)  # a tombstone removes the checkpoint
    assert found == {}
