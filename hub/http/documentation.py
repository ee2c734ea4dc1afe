"""The hub's pages for people, served without any CDN (municipal networks are often offline):
``/`` (a landing page), ``/asyncapi`` (the AsyncAPI viewer), ``/docs`` and ``/redoc`` (Swagger
UI and ReDoc from fastapi-offline's copy, its files served by the hub).

Each documentation page is sent with a Content-Security-Policy that lets the browser load from
the hub only: ReDoc's bundle still names a logo on cdn.redoc.ly, which a browser on an offline
network would otherwise try (and wait for).

The AsyncAPI viewer (``@asyncapi/react-component``'s standalone bundle) is not on PyPI:
``make install`` fetches it once from the npm registry into ``hub/http/assets/asyncapi``
(deploy/assets/fetch-asyncapi-viewer.sh, version and SHA-256 pinned in the Makefile).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

if TYPE_CHECKING:
    from fastapi import FastAPI
    from faststream.specification import AsyncAPI

__all__ = ["ASYNCAPI_ASSETS", "asyncapi_page", "install_documentation", "offline_app"]

ASYNCAPI_ASSETS = Path(__file__).parent / "assets" / "asyncapi"
STATIC = "/static"

# What FastStream's viewer shows (faststream.specification.asyncapi.site), without its try-it
# plugin (a CDN script, and an endpoint the hub does not have) and remote favicons.
_VIEWER_CONFIG = (
    '{"show": {"sidebar": true, "info": true, "servers": true, "operations": true, '
    '"messages": true, "schemas": true, "errors": true}, '
    '"expand": {"messageExamples": true}, '
    '"sidebar": {"showServers": "byDefault", "showOperations": "byDefault"}}'
)


# Everything from the hub; Swagger UI and ReDoc start from an inline script and style inline;
# ReDoc draws in a blob: worker. Images: the hub's favicon and data: URIs (their icons).
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def offline_app(**settings: Any) -> FastAPI:
    """A FastAPI app whose ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from the hub
    (``/static/docs/...``, fastapi-offline's files) instead of a CDN, sent with DOCS_POLICY."""
    static = f"{STATIC}/docs"
    app = FastAPIOffline(static_url=static, docs_url=None, redoc_url=None, **settings)
    openapi_url = app.openapi_url or "/openapi.json"
    headers = {"Content-Security-Policy": DOCS_POLICY}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon.png",
            # no badge from validator.swagger.io (Swagger UI asks it for a non-local spec)
            swagger_ui_parameters={"validatorUrl": None},
        )
        return HTMLResponse(page.body, headers=headers)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{static}/redoc.standalone.js",
            redoc_favicon_url=f"{static}/favicon.png",
            with_google_fonts=False,
        )
        return HTMLResponse(page.body, headers=headers)

    return app


def asyncapi_page(title: str, document_json: str) -> str:
    """The AsyncAPI viewer's page for ``document_json``, its script and stylesheet from
    ``/static/asyncapi``. ``<`` is escaped in the inline JSON, so no text in the document can
    close the script element."""
    inline = document_json.replace("<", "\\u003c")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{_escape(title)} AsyncAPI</title>
  <link rel="stylesheet" href="{STATIC}/asyncapi/asyncapi.css">
  <style>html {{ font-family: ui-sans-serif, system-ui, sans-serif; line-height: 1.5; }}</style>
</head>
<body>
  <div id="asyncapi"><p>Loading the AsyncAPI viewer... If this stays, its files are missing
  (run <code>make install</code>); the document itself is at
  <a href="/asyncapi.json">/asyncapi.json</a>.</p></div>
  <script src="{STATIC}/asyncapi/asyncapi.js"></script>
  <script>
    window.AsyncApiStandalone.render(
      {{schema: {inline}, config: {_VIEWER_CONFIG}}},
      document.getElementById("asyncapi")
    );
  </script>
</body>
</html>"""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LANDING = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Knooppunt {version}</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; }}
    li {{ margin: .4rem 0; }} code {{ color: #555; }}
  </style>
</head>
<body>
  <h1>Knooppunt {version}</h1>
  <p>Event-driven integration hub for Dutch municipalities.</p>
  <ul>
    <li><a href="/console">Ops console</a>: destinations, dead letters, replay (operators)</li>
    <li><a href="/docs">API documentation</a> (Swagger UI), also as <a href="/redoc">ReDoc</a>
      and <a href="/openapi.json">openapi.json</a></li>
    <li><a href="/asyncapi">AsyncAPI</a>: the Kafka side (<a href="/asyncapi.json">JSON</a>)</li>
    <li><a href="/metrics">Metrics</a> (Prometheus)</li>
    <li><a href="/healthz">Health</a>, <a href="/readyz">readiness</a>,
      <a href="/destinations">destinations</a></li>
  </ul>
</body>
</html>"""


def install_documentation(app: FastAPI, specification: AsyncAPI, version: str) -> None:
    """``/``, ``/asyncapi`` and the viewer's files under ``/static/asyncapi``."""
    # check_dir=False: a checkout without `make install` still starts (the page says why the
    # viewer is missing); the files are looked up per request.
    app.mount(
        f"{STATIC}/asyncapi",
        StaticFiles(directory=ASYNCAPI_ASSETS, check_dir=False),
        name="asyncapi-viewer",
    )
    landing = _LANDING.format(version=_escape(version))

    @app.get("/", include_in_schema=False)
    async def landing_page() -> HTMLResponse:
        return HTMLResponse(landing)

    @app.get("/asyncapi", include_in_schema=False)
    async def asyncapi_html() -> HTMLResponse:
        document = specification.to_specification()
        return HTMLResponse(asyncapi_page(document.title, document.to_json()))
