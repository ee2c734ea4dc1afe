"""Mounting the Notificaties API on the hub's app (processes with the ``api`` role)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from fastapi.responses import JSONResponse, Response

from hub.notificaties.api import API_PREFIX, notificaties_router
from hub.notificaties.openapi import complete, nrc_document
from hub.notificaties.publishing import NotificatiePublisher

if TYPE_CHECKING:
    from fastapi import FastAPI

    from connectors.sdk.source import Publish
    from hub.config import HubConfig
    from hub.http.auth import Authenticator
    from hub.notificaties.store import AbonnementenStore, KanalenStore

__all__ = ["mount_notificaties"]


def mount_notificaties(
    app: FastAPI,
    config: HubConfig,
    authenticator: Authenticator,
    publish: Publish,
    kanalen: KanalenStore,
    abonnementen: AbonnementenStore,
    public_url: str,
) -> dict[str, Any]:
    """Include the API's routes under /api/v1, serve its own OpenAPI document there, and add its
    security scheme and error schemas to the app's document. Returns the API's document."""
    router = notificaties_router(
        authenticator,
        frozenset(t.id for t in config.tenants),
        kanalen,
        abonnementen,
        NotificatiePublisher(publish, config, kanalen),
        public_url,
    )
    document = nrc_document(router.routes, API_PREFIX)
    app.include_router(router, prefix=API_PREFIX)
    as_yaml = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)

    async def yaml_document() -> Response:
        return Response(as_yaml, media_type="application/vnd.oai.openapi")

    async def json_document() -> Response:
        return JSONResponse(document, media_type="application/vnd.oai.openapi+json")

    for path in ("/schema/openapi.yaml", "/openapi.yaml"):
        app.add_api_route(API_PREFIX + path, yaml_document, include_in_schema=False)
    app.add_api_route(API_PREFIX + "/openapi.json", json_document, include_in_schema=False)

    ours = {API_PREFIX + path for path in document["paths"]}
    app_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(app_openapi(), ours)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return document
