"""OAuth2 access tokens beside the ZGW JWT (issue 8): a token of a configured identity provider,
verified against the JWK Set a real local HTTP server publishes (as Keycloak does at
``/realms/<realm>/protocol/openid-connect/certs``), acts for the tenants its claim lists."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.config import HubConfig
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.integration.helpers import SECRETS, tenant_entry, wait_ready
from tests.kafka_under_test import free_port
from tests.samples import submission

pytestmark = pytest.mark.kafka
REALM = "/realms/gemeenten"
AUDIENCE = "knooppunt"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def identity_provider() -> AsyncIterator[str]:
    """A JWKS endpoint on loopback; its issuer URL."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    document = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    async def certs(_request: web.Request) -> web.Response:
        return web.json_response(document)

    app = web.Application()
    app.router.add_get(f"{REALM}/protocol/openid-connect/certs", certs)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}{REALM}"
    finally:
        await runner.cleanup()


def _config(issuer: str) -> HubConfig:
    return HubConfig.model_validate(
        {
            "tenants": [tenant_entry("0363", {}), tenant_entry("0599", {})],
            "clients": [
                {"id": "demo-eformulieren", "secret_file": str(SECRETS), "tenants": ["0599"]}
            ],
            "identity_providers": [
                {
                    "name": "keycloak",
                    "issuer": issuer,
                    "jwks_url": f"{issuer}/protocol/openid-connect/certs",
                    "audience": AUDIENCE,
                }
            ],
        }
    )


def _token(issuer: str, key: Any = KEY, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": issuer,
        "aud": AUDIENCE,
        "azp": "open-formulieren",
        "iat": now,
        "exp": now + 300,
        "tenants": ["0363"],
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


async def test_a_token_of_the_identity_provider_acts_for_its_tenants(
    hub_settings: Settings, identity_provider: str
) -> None:
    issuer = identity_provider
    cases = {
        "valid": (_token(issuer), "0363"),
        "other tenant": (_token(issuer), "0599"),
        "space-separated claim": (_token(issuer, tenants="0599 0363"), "0363"),
        "signed by another key": (_token(issuer, key=STRANGER), "0363"),
        "unknown kid": (_token(issuer, kid="k9"), "0363"),
        "expired": (_token(issuer, exp=int(time.time()) - 3600), "0363"),
        "wrong audience": (_token(issuer, aud="another-api"), "0363"),
        "no tenants claim": (_token(issuer, tenants=None), "0363"),
        "zgw client beside it": (demo_token(), "0599"),
    }
    answers = {}
    async with running_hub(hub_settings, _config(issuer)) as (_hub, http):
        await wait_ready(http)
        for name, (token, tenant) in cases.items():
            answer = await http.post(
                f"/api/v1/tenants/{tenant}/submissions",
                json=submission(),
                headers={"Authorization": f"Bearer {token}"},
            )
            answers[name] = (answer.status_code, answer.json().get("detail", ""))
    assert answers["valid"][0] == 202, answers
    assert answers["space-separated claim"][0] == 202
    assert answers["zgw client beside it"][0] == 202
    assert answers["other tenant"] == (
        403,
        "client 'keycloak.open-formulieren' may not act for tenant 0599",
    )
    for refused in (
        "signed by another key",
        "unknown kid",
        "expired",
        "wrong audience",
        "no tenants claim",
    ):
        assert answers[refused][0] == 401, (refused, answers[refused])
    assert "k9" in answers["unknown kid"][1]
    assert "tenants" in answers["no tenants claim"][1]
