"""The ops console in a real headless browser (Debian's chromium, driven by Playwright): a dead
letter made by a failing back office is found, inspected, replayed after the fix, delivered and
marked replayed; `knooppunt dlq` then shows the mark and does not replay it again.

The screenshot is left at .artifacts/console-replayed.png (git-ignored), for a person to look at.
The same browser opens /docs, /redoc and /asyncapi: each renders, and asks nothing of any host
but the hub (issue 11 part 6: municipal networks are often offline).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.async_api import Browser, async_playwright, expect

from hub.runtime.settings import Settings
from tests.conftest import REPO, demo_token
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.integration.helpers import SECRETS, form_route, tenant_entry, until
from tests.integration.processes import hub_env, hub_process, knooppunt, wait_ready_process
from tests.kafka_reading import read_topics
from tests.samples import VALID_BSN, submission

pytestmark = pytest.mark.kafka
ARTIFACTS = REPO / ".artifacts"
OPERATOR, PASSWORD = "ops-0363", "a-long-enough-console-password"
INSTALL = "apt-get update && apt-get install -y chromium"


def chromium_path() -> str:
    """Debian's chromium (or KNOOPPUNT_CHROMIUM); the test fails, never skips, without it."""
    found = os.environ.get("KNOOPPUNT_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            f"the console's browser test needs Debian's chromium: {INSTALL} (as root), or set "
            "KNOOPPUNT_CHROMIUM to a Chromium binary",
            pytrace=False,
        )
    return found


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


def _write_config(path: Path, backoffice: FakeBackOffice) -> Path:
    config = {
        "tenants": [
            tenant_entry("0363", {"zaken": backoffice.url("zaken")}),
            tenant_entry("0599", {"zaken": backoffice.url("zaken-0599")}),
        ],
        "clients": [
            {"id": "demo-eformulieren", "secret_file": str(SECRETS), "tenants": ["0363", "0599"]}
        ],
        "operators": [{"id": OPERATOR, "secret_env": "CONSOLE_PASSWORD", "tenants": ["0363"]}],
        "routes": [form_route("0363", "aanvraag", ["zaken"])],
        "delivery": {"retry_delays": ["1s", "2s"]},
    }
    path.write_text(yaml.safe_dump(config))
    return path


async def test_an_operator_replays_a_dead_letter_in_the_browser_and_sees_it_delivered(
    hub_settings: Settings,
    backoffice: FakeBackOffice,
    browser: Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONSOLE_PASSWORD", PASSWORD)  # hub_env passes the environment on
    backoffice.script("zaken", status=400)  # refuses the content: a dead letter at once
    config = _write_config(tmp_path / "hub.yaml", backoffice)
    base = f"http://127.0.0.1:{hub_settings.http_port}"
    dlq = hub_settings.topics.dead_letter("0363")
    ARTIFACTS.mkdir(exist_ok=True)
    with hub_process(hub_settings, config, tmp_path) as process:
        await asyncio.to_thread(wait_ready_process, hub_settings, process)
        async with httpx.AsyncClient(base_url=base) as http:
            sent = await http.post(
                "/api/v1/tenants/0363/submissions",
                json=submission("aanvraag"),
                headers={"Authorization": f"Bearer {demo_token()}"},
            )
        assert sent.status_code == 202, sent.text
        letters = await read_topics(hub_settings.kafka_bootstrap_servers, [dlq], 1)
        name = f"{letters[0].partition}:{letters[0].offset}"

        page = await browser.new_page()
        await page.goto(f"{base}/console")
        await expect(page).to_have_url(f"{base}/console/login")  # no session: the login form
        await page.get_by_label("Operator").fill(OPERATOR)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.locator("#tenant-0363")).to_be_visible()
        await expect(page.locator("#tenant-0599")).to_have_count(0)  # not this operator's
        await expect(page.locator("#tenant-0363 .letter-count")).to_have_text("1")

        await page.get_by_role("link", name="Gemeente 0363 (0363)").click()
        row = page.locator(f'tr.letter[data-letter="{name}"]')
        await expect(row.locator(".replay-state")).to_have_text("not replayed")
        await expect(row).to_contain_text("DeliveryError 400")

        await row.get_by_role("link", name=name).click()  # the letter in full
        await expect(page.locator("h1")).to_have_text(f"Dead letter {name}")
        await expect(page.locator("table.attempts")).to_contain_text("permanent")
        await expect(page.locator("pre.payload")).to_be_visible()
        assert VALID_BSN not in await page.content()  # personal data masked
        await page.go_back()

        backoffice.script("zaken", status=201)  # the back office is fixed
        await page.get_by_label(f"select {name}").check()
        await page.get_by_role("button", name="Replay selected").click()
        await expect(page.get_by_role("status")).to_contain_text("1 dead letter(s) replayed")
        await until(lambda: len(backoffice.accepted("zaken")) == 1)
        await page.reload()
        row = page.locator(f'tr.letter[data-letter="{name}"]')
        await expect(row.locator(".replay-state")).to_contain_text(f"by console:{OPERATOR}")
        zaken = page.locator('table.destinations tr[data-destination="zaken"]')
        await expect(zaken.locator(".delivered")).to_have_text("1")
        await expect(zaken.locator(".letters")).to_have_text("0")  # none waiting any more
        await page.screenshot(path=str(ARTIFACTS / "console-replayed.png"), full_page=True)

        # Replaying it again from the form without "replay again" skips it.
        await page.get_by_label(f"select {name}").check()
        await page.get_by_role("button", name="Replay selected").click()
        await expect(page.get_by_role("status")).to_contain_text("0 dead letter(s) replayed, 1")

        env = hub_env(hub_settings)
        listed = await asyncio.to_thread(knooppunt, env, "dlq", "list", "--tenant", "0363")
        again = await asyncio.to_thread(knooppunt, env, "dlq", "replay", "--tenant", "0363")
        forced = await asyncio.to_thread(
            knooppunt, env, "dlq", "replay", "--tenant", "0363", "--force", "--dry-run"
        )
        await asyncio.sleep(2.0)  # a second delivery would have arrived by now
    assert listed.returncode == 0, listed.stderr
    assert "replayed at" in listed.stdout
    assert f"by console:{OPERATOR}" in listed.stdout
    assert "1 dead letter(s) for tenant 0363, 0 not replayed" in listed.stdout
    assert again.returncode == 0, again.stderr
    assert "0 dead letter(s) replayed, 1 skipped (replayed before)" in again.stdout
    assert f"would replay {name} ->" in forced.stdout  # --force takes it again
    assert len(backoffice.accepted("zaken")) == 1  # delivered once, whatever was clicked
    assert backoffice.received("zaken-0599") == []


DOCUMENTATION = {  # page -> what it shows once its script has run
    "/docs": ".swagger-ui .info .title",
    "/redoc": "h1",
    "/asyncapi": "#introduction",
}


@pytest.mark.parametrize("path", sorted(DOCUMENTATION))
async def test_a_documentation_page_renders_from_the_hub_alone(
    hub_settings: Settings,
    backoffice: FakeBackOffice,
    browser: Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    monkeypatch.setenv("CONSOLE_PASSWORD", PASSWORD)
    config = _write_config(tmp_path / "hub.yaml", backoffice)
    base = f"http://127.0.0.1:{hub_settings.http_port}"
    with hub_process(hub_settings, config, tmp_path) as process:
        await asyncio.to_thread(wait_ready_process, hub_settings, process)
        page = await browser.new_page()
        asked: list[str] = []
        refused: dict[str, str | None] = {}
        page.on("request", lambda request: asked.append(request.url))
        page.on("requestfailed", lambda request: refused.update({request.url: request.failure}))
        await page.goto(f"{base}{path}")
        await expect(page.locator(DOCUMENTATION[path]).first).to_contain_text("Knooppunt")
        await page.wait_for_load_state("networkidle")
    hub = f"127.0.0.1:{hub_settings.http_port}"
    elsewhere = [u for u in asked if not u.startswith(("data:", "blob:")) and hub not in u]
    # ReDoc's bundle names a logo on cdn.redoc.ly: the page's policy stops it in the browser
    # ("csp"); offline it would wait for a name that never resolves.
    assert {u: refused.get(u) for u in elsewhere} == dict.fromkeys(elsewhere, "csp"), asked
    assert any(hub in u for u in asked)
