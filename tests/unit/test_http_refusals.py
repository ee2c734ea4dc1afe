"""Every refusal of the HTTP API is problem+json (RFC 9457), also Starlette's own."""

from __future__ import annotations

import httpx

from hub.config import HubConfig
from hub.runtime.assembly import build_hub
from hub.runtime.settings import Settings


async def test_no_such_path_and_a_wrong_method_are_problems(demo_config: HubConfig) -> None:
    """Found by a new user: these answered {"detail": "Not Found"} as plain JSON."""
    hub = build_hub(Settings(kafka_bootstrap_servers="127.0.0.1:9"), demo_config)
    transport = httpx.ASGITransport(app=hub.app)  # no lifespan: nothing connects
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        missing = await http.get("/api/v1/nope")
        wrong = await http.delete("/api/v1/tenants/0363/submissions")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "POST" in wrong.headers["allow"]
