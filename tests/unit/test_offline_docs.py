"""/docs, /redoc and /asyncapi work on a network without internet: every script and stylesheet
they load is served by the hub itself; / links what a person looks for."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from hub.config import HubConfig
from hub.http.documentation import ASYNCAPI_ASSETS, asyncapi_page
from hub.runtime.assembly import build_hub
from hub.runtime.settings import Settings

PAGES = ("/docs", "/redoc", "/asyncapi")


class _Assets(HTMLParser):
    """Every URL a page loads by itself: scripts, stylesheets, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = {name: value or "" for name, value in attrs}
        if tag in ("script", "img", "iframe") and given.get("src"):
            self.urls.append(given["src"])
        if tag == "link" and given.get("href"):
            self.urls.append(given["href"])
        if tag == "a" and given.get("href"):
            self.links.append(given["href"])


def _parsed(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


@pytest.fixture
async def http(demo_config: HubConfig) -> httpx.AsyncClient:
    if not (ASYNCAPI_ASSETS / "asyncapi.js").is_file():
        pytest.fail(
            f"the AsyncAPI viewer is missing from {ASYNCAPI_ASSETS}: run `make install` "
            "(it fetches it once from the npm registry)",
            pytrace=False,
        )
    app = build_hub(Settings(), demo_config).app  # routes only: nothing connects to Kafka
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


@pytest.mark.parametrize("page", PAGES)
async def test_every_asset_of_a_documentation_page_comes_from_the_hub(
    http: httpx.AsyncClient, page: str
) -> None:
    answer = await http.get(page)
    assert answer.status_code == 200
    assets = _parsed(answer.text).urls
    assert assets, f"{page} loads no script or stylesheet: the test would prove nothing"
    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from another host"
        assert not url.startswith("//"), f"{page} loads {url} from another host"
        loaded = await http.get(url)
        assert loaded.status_code == 200, f"{page} loads {url}: {loaded.status_code}"
        assert len(loaded.content) > 1000 or url.endswith((".png", ".ico"))
    # Nothing else in the page names a CDN either (a URL built in a script).
    assert not re.search(r"https?://(cdn|unpkg|fonts)\.", answer.text)
    if page != "/asyncapi":  # a bundle may still name a CDN: the browser is told not to go
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "img-src 'self' data:" in policy


async def test_the_asyncapi_page_renders_the_hubs_own_document(http: httpx.AsyncClient) -> None:
    page = (await http.get("/asyncapi")).text
    assert "window.AsyncApiStandalone.render" in page
    assert "knooppunt.dlq.0363" in page  # the demo config's topics are in the inline document


def test_text_in_the_document_cannot_close_the_script_element() -> None:
    page = asyncapi_page("Knooppunt", '{"info": {"description": "</script><script>alert(1)"}}')
    assert "</script><script>alert" not in page
    assert "\\u003c/script>" in page


async def test_the_landing_page_links_docs_asyncapi_console_and_metrics(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    links = _parsed(answer.text).links
    for wanted in ("/docs", "/asyncapi", "/console", "/metrics"):
        assert wanted in links
    for link in links:
        if link != "/console":  # the console needs an operator (tests/unit/test_console*.py)
            assert (await http.get(link)).status_code in (200, 503), link
