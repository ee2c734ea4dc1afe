"""The ops console's door: sessions, tenants and CSRF, decided before Kafka is read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.config import HubConfig
from hub.console.sessions import SESSION_S, Operators
from hub.errors import ConfigError
from hub.runtime.assembly import build_hub
from hub.runtime.settings import Settings
from tests.integration.helpers import hub_config, tenant_entry

PASSWORD_0363 = "amsterdam-operator-password"
PASSWORD_ALL = "every-municipality-password"


def _config(monkeypatch: pytest.MonkeyPatch, **extra: Any) -> HubConfig:
    monkeypatch.setenv("OPERATOR_0363", PASSWORD_0363)
    monkeypatch.setenv("OPERATOR_ALL", PASSWORD_ALL)
    base = hub_config([tenant_entry("0363", {"zaken": None}), tenant_entry("0599", {})], [])
    data = base.model_dump(exclude={"source"})
    data["operators"] = [
        {"id": "ops-0363", "secret_env": "OPERATOR_0363", "tenants": ["0363"]},
        {"id": "ops-all", "secret_env": "OPERATOR_ALL", "tenants": "all"},
    ]
    data.update(extra)
    return HubConfig.model_validate(data)


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> HubConfig:
    return _config(monkeypatch)


@pytest.fixture
def http(config: HubConfig) -> httpx.AsyncClient:
    # The port is nobody's: a page that reads Kafka fails fast, which none of these reaches.
    app = build_hub(Settings(kafka_bootstrap_servers="127.0.0.1:1"), config).app
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://hub", follow_redirects=False)


async def _login(http: httpx.AsyncClient, operator: str, password: str) -> httpx.Response:
    return await http.post(
        "/console/login",
        content=f"operator={operator}&password={password}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def test_without_a_session_a_page_redirects_to_the_login_and_a_post_is_401(
    http: httpx.AsyncClient,
) -> None:
    for page in ("/console", "/console/tenants/0363", "/console/tenants/0363/letters/0/0"):
        answer = await http.get(page)
        assert answer.status_code == 303, page
        assert answer.headers["location"] == "/console/login"
    refused = await http.post("/console/tenants/0363/replay", content="letter=0:0")
    assert refused.status_code == 401
    http.cookies.set("knooppunt_console", "ops-all.9999999999.a.b", path="/console")
    forged = await http.get("/console")
    assert forged.status_code == 303


async def test_a_wrong_password_is_refused_and_the_right_one_sets_a_strict_httponly_cookie(
    http: httpx.AsyncClient,
) -> None:
    wrong = await _login(http, "ops-0363", "not-the-password-at-all")
    assert wrong.status_code == 401
    assert "Wrong operator or password" in wrong.text
    unknown = await _login(http, "nobody", PASSWORD_0363)
    assert unknown.status_code == 401
    right = await _login(http, "ops-0363", PASSWORD_0363)
    assert right.status_code == 303
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie


async def test_an_operator_of_0363_gets_404_for_0599_as_for_a_tenant_that_does_not_exist(
    http: httpx.AsyncClient,
) -> None:
    await _login(http, "ops-0363", PASSWORD_0363)
    for page in ("/console/tenants/0599", "/console/tenants/0599/letters/0/0"):
        assert (await http.get(page)).status_code == 404, page
    assert (await http.get("/console/tenants/9999")).status_code == 404
    token = _csrf_of(await http.get("/console/tenants/9999"))
    replay = await http.post(
        "/console/tenants/0599/replay",
        content=f"csrf={token}&letter=0:0&force=on",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert replay.status_code == 404


async def test_a_replay_without_the_sessions_csrf_token_is_refused(
    http: httpx.AsyncClient, config: HubConfig
) -> None:
    await _login(http, "ops-0363", PASSWORD_0363)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    missing = await http.post("/console/tenants/0363/replay", content="letter=0:0", headers=form)
    assert missing.status_code == 403
    # A token of another operator's session is not this session's either.
    other = Operators(config)
    cookie = other.login("ops-all", PASSWORD_ALL)
    session = other.session(cookie)
    assert session is not None
    foreign = await http.post(
        "/console/tenants/0363/replay",
        content=f"csrf={other.csrf_token(session)}&letter=0:0",
        headers=form,
    )
    assert foreign.status_code == 403
    # Logging out is a change too: 403 without the token (a trial found 401, as if logged out)
    assert (await http.post("/console/logout", content="", headers=form)).status_code == 403
    http.cookies.clear()
    assert (await http.post("/console/logout", content="", headers=form)).status_code == 401


def test_a_session_expires_and_a_changed_password_ends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(monkeypatch)
    operators = Operators(config)
    cookie = operators.login("ops-0363", PASSWORD_0363, now=1000.0)
    assert cookie is not None
    assert operators.session(cookie, now=1000.0 + SESSION_S - 1) is not None
    assert operators.session(cookie, now=1000.0 + SESSION_S + 1) is None
    monkeypatch.setenv("OPERATOR_0363", "a-new-password-after-rotation")
    assert Operators(config).session(cookie, now=1001.0) is None


def test_an_operator_without_its_password_stops_the_hub_at_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(monkeypatch)
    monkeypatch.delenv("OPERATOR_0363")
    with pytest.raises(ConfigError, match="OPERATOR_0363 is not set"):
        build_hub(Settings(), config)


def _csrf_of(page: httpx.Response) -> str:
    marker = 'name="csrf" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


async def test_a_form_of_too_many_fields_is_413_not_500(http: httpx.AsyncClient) -> None:
    # A new user's trial: 1,200 fields made parse_qs raise, a 500 anyone could cause.
    fields = "operator=x&password=y&" + "&".join(f"a={i}" for i in range(6000))
    answer = await http.post(
        "/console/login",
        content=fields,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    huge = await http.post(
        "/console/login",
        content="operator=x&password=" + "y" * 300_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413


async def test_a_replay_of_ids_that_are_no_letters_says_which(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a new user: `letter=abc`, `letter=0:999` or `letter=99999999999999999999:0`
    redirected to `?replayed=0&skipped=0`, and the page said nothing about them."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from hub.console.readings import TenantLetters  # noqa: PLC0415
    from hub.delivery.dead_letters import DeadLetterRecord  # noqa: PLC0415

    there = DeadLetterRecord(
        "t.0363.dead-letter", 0, 0, datetime.now(UTC), None, b"{}", (("ce_type", b"x"),)
    )

    async def letters(*_args: object) -> TenantLetters:
        return TenantLetters([there], {})

    async def replay(*_args: object) -> list[object]:
        return []

    monkeypatch.setattr("hub.console.views.tenant_letters", letters)
    monkeypatch.setattr("hub.console.views.replay", replay)
    await _login(http, "ops-0363", PASSWORD_0363)
    token = _csrf_of(await http.get("/console/tenants/0363"))
    huge = "7" * 100_000
    selected = ["abc", "0:999", "99999999999999999999:0", "0:0", huge, "1:1", "2:2", "3:3"]
    answer = await http.post(
        "/console/tenants/0363/replay",
        content="&".join([f"csrf={token}", *(f"letter={x}" for x in selected)]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert len(location) < 500
    page = await http.get(location)
    assert page.status_code == 200
    assert "1 dead letter(s) replayed" in page.text
    assert "7 selected id(s) not found" in page.text
    assert "abc, 0:999, 99999999999999999999:0, " + "7" * 39 + "…, 1:1 and 2 more" in page.text
    assert huge[:100] not in page.text


async def test_the_overview_shows_the_destinations_when_kafka_does_not_answer(
    http: httpx.AsyncClient,
) -> None:
    """Found by a new user: in a Kafka outage every console page was a 503, though the state of
    the destinations the hub holds in memory is what an operator needs then."""
    await _login(http, "ops-all", PASSWORD_ALL)
    page = await http.get("/console")  # nothing listens at the settings' Kafka address
    assert page.status_code == 200, page.text
    assert "Kafka did not answer" in page.text
    assert '<strong class="letter-count">?</strong>' in page.text
    assert 'id="tenant-0363"' in page.text
