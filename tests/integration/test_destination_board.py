"""The ops console of a process that delivers nothing shows every destination's state and lag
(a new user's trial: in the shipped deployments the console is served by ``api`` processes and
said "not delivered by this process" for every destination). Two hubs on a real broker: one
``api``, one ``router,delivery``; the back office is down, its circuit opens, events wait."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from hub.config import HubConfig
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.integration.helpers import FORM_SUBMITTED, hub_config, tenant_entry
from tests.samples import submission

pytestmark = pytest.mark.kafka
OPERATOR, PASSWORD = "ops-all", "every-municipality-password"
SENT = 4


def _config(backoffice: FakeBackOffice, monkeypatch: pytest.MonkeyPatch) -> HubConfig:
    monkeypatch.setenv("KNOOPPUNT_TEST_OPERATOR", PASSWORD)
    base = hub_config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        [{"tenant": "0363", "contract": FORM_SUBMITTED, "to": ["zaken"]}],
    )
    data = base.model_dump(exclude={"source"})
    data["operators"] = [
        {"id": OPERATOR, "secret_env": "KNOOPPUNT_TEST_OPERATOR", "tenants": "all"}
    ]
    data["delivery"] = {
        "retry_delays": ["1h"],
        "circuit_failures": 1,
        "circuit_break": "10m",
        "max_in_flight": 1,  # one attempt opens the circuit; the others wait as lag
    }
    return HubConfig.model_validate(data)


async def _zaken_row(http: httpx.AsyncClient) -> str:
    page = (await http.get("/console")).text
    found = re.search(r'<tr data-destination="zaken">(.*?)</tr>', page, re.S)
    assert found is not None, page
    return found.group(1)


async def test_an_api_process_console_shows_what_the_delivery_process_holds(
    hub_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = {"status_interval_s": 1, "lag_interval_s": 1}
    api = hub_settings.model_copy(update={"roles": "api", **fast})
    worker = hub_settings.model_copy(update={"roles": "router,delivery", **fast})
    with running_backoffice() as backoffice:
        backoffice.script("zaken", fail_first=10**6, fail_status=503)
        config = _config(backoffice, monkeypatch)
        async with (
            running_hub(worker, config) as (_worker, _),
            running_hub(api, config) as (_api, http),
        ):
            token = {"Authorization": f"Bearer {demo_token()}"}
            for _ in range(SENT):
                sent = await http.post(
                    "/api/v1/tenants/0363/submissions", json=submission(), headers=token
                )
                assert sent.status_code == 202, sent.text
            logged_in = await http.post(
                "/console/login",
                content=f"operator={OPERATOR}&password={PASSWORD}",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert logged_in.status_code == 303
            http.cookies = logged_in.cookies
            row = ""
            for _ in range(60):  # the worker writes every second, the lag is measured too
                row = await _zaken_row(http)
                if "circuit-open" in row and f'<td class="lag">{SENT - 1}</td>' in row:
                    break
                await asyncio.sleep(0.5)
            assert "circuit-open" in row, row
            assert '<td class="failed">1</td>' in row, row
            assert f'<td class="lag">{SENT - 1}</td>' in row, row  # the circuit holds the rest
            assert "not delivered by this process" not in row
