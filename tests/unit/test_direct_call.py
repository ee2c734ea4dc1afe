"""A push source's endpoint is called without FastAPI's dependency machinery only where that
changes nothing but the cost (connectors.sdk.direct_call)."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from connectors.eformulieren.source import EformulierenSource
from connectors.sdk.direct_call import direct_call
from connectors.sdk.json_body import ijson_route
from connectors.sdk.source_conformance import _context, _Recorded


class Body(BaseModel):
    aantal: int
    naam: str


def _routes() -> APIRouter:
    router = APIRouter(route_class=ijson_route())

    @router.post("/plain/{tenant}")
    async def plain(
        tenant: str,
        body: Body,
        request: Request,
        x_trace_id: Annotated[str | None, Header()] = None,
    ) -> Response:
        seen = {"tenant": tenant, "naam": body.naam, "trace": x_trace_id, "path": request.url.path}
        return JSONResponse(seen, 202)

    @router.post("/query")
    async def with_query(body: Body, limit: int = 3) -> Response:
        return JSONResponse({"limit": limit}, 202)

    @router.post("/depends")
    async def with_dependency(body: Body, who: Annotated[str, Depends(lambda: "dep")]) -> Response:
        return JSONResponse({"who": who}, 202)

    @router.post("/model")
    async def returning_a_model(body: Body) -> Body:
        return body

    @router.post("/typed-header")
    async def with_typed_header(body: Body, x_count: Annotated[int, Header()] = 0) -> Response:
        return JSONResponse({"count": x_count}, 202)

    return router


def _client() -> httpx.AsyncClient:
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"locs": [list(e["loc"]) for e in exc.errors()]}, 400)

    app.include_router(_routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def test_only_plain_signatures_are_called_directly() -> None:
    routes = [route for route in _routes().routes if isinstance(route, APIRoute)]
    direct = {route.path: direct_call(route) is not None for route in routes}
    assert direct == {
        "/plain/{tenant}": True,
        "/query": False,
        "/depends": False,
        "/model": False,
        "/typed-header": False,
    }


def test_the_intake_routes_are_called_directly() -> None:
    router = EformulierenSource().router(_context(_Recorded(), None))
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    assert len(routes) == 2
    assert all(direct_call(route) is not None for route in routes)


async def test_a_direct_call_gets_what_fastapi_would_have_passed() -> None:
    async with _client() as client:
        answer = await client.post(
            "/plain/0363", json={"aantal": "2", "naam": "Jan"}, headers={"X-Trace-Id": "abc"}
        )
        anonymous = await client.post("/plain/0363", json={"aantal": 2, "naam": "Jan"})
    assert answer.status_code == 202
    assert answer.json() == {"tenant": "0363", "naam": "Jan", "trace": "abc", "path": "/plain/0363"}
    assert anonymous.json()["trace"] is None


async def test_a_direct_call_names_every_invalid_field_as_fastapi_does() -> None:
    async with _client() as client:
        answer = await client.post("/plain/0363", json={"aantal": "twee"})
    assert answer.status_code == 400
    assert answer.json() == {"locs": [["body", "aantal"], ["body", "naam"]]}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/query?limit=5", {"limit": 5}),
        ("/depends", {"who": "dep"}),
        ("/model", {"aantal": 1, "naam": "a"}),
    ],
)
async def test_other_signatures_keep_fastapis_handler(path: str, expected: object) -> None:
    async with _client() as client:
        answer = await client.post(path, json={"aantal": 1, "naam": "a"})
    assert answer.json() == expected
