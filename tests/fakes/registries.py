"""Fake KvK and BAG APIs: one real HTTP server on loopback speaking both, after their published
specifications.

- KvK API Basisprofiel: ``GET /api/v1/basisprofielen/{kvkNummer}`` with the ``apikey`` header;
  a number that is not 8 digits is 400, one it does not know 404, each with the KvK's
  ``{"fout": [{"code", "omschrijving"}]}`` body.
- BAG Individuele Bevragingen v2: ``GET /lvbag/individuelebevragingen/v2/adressen?postcode=
  &huisnummer=`` with ``X-Api-Key``; ``application/hal+json`` with ``_embedded.adressen``
  (absent when none); a postcode or number of the wrong form is 400 problem+json naming it.
Every request is recorded.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = ["ADDRESSES", "COMPANIES", "FakeRegistries", "running_registries"]

COMPANIES: dict[str, dict[str, Any]] = {
    "69599084": {
        "kvkNummer": "69599084",
        "naam": "Test EMZ Dagobert",
        "formeleRegistratiedatum": "20170905",
        "_embedded": {
            "hoofdvestiging": {
                "vestigingsnummer": "000038509490",
                "eersteHandelsnaam": "Test EMZ Dagobert",
            }
        },
    }
}
ADDRESSES: dict[tuple[str, int], list[dict[str, Any]]] = {
    ("1012JS", 1): [
        {
            "openbareRuimteNaam": "Dam",
            "huisnummer": 1,
            "postcode": "1012JS",
            "woonplaatsNaam": "Amsterdam",
            "nummeraanduidingIdentificatie": "0363200000218908",
            "adresseerbaarObjectIdentificatie": "0363010000959579",
        }
    ]
}
_KVK = re.compile(r"^[0-9]{8}$")
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")


@dataclass
class FakeRegistries:
    port: int
    api_key: str = "registry-key"
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def kvk_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def bag_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/lvbag/individuelebevragingen/v2"

    def received(self) -> list[tuple[str, dict[str, str]]]:
        with self._lock:
            return list(self.requests)

    def _record(self, request: Request) -> dict[str, str]:
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            self.requests.append((str(request.url.path) + "?" + request.url.query, headers))
        return headers

    async def _basisprofiel(self, request: Request) -> Response:
        headers = self._record(request)
        if headers.get("apikey") != self.api_key:
            return JSONResponse({"fout": [{"code": "IPD0000", "omschrijving": "apikey"}]}, 401)
        number = request.path_params["kvk"]
        if not _KVK.fullmatch(number):
            return JSONResponse({"fout": [{"code": "IPD0004", "omschrijving": "kvkNummer"}]}, 400)
        if number not in COMPANIES:
            return JSONResponse({"fout": [{"code": "IPD0005", "omschrijving": "onbekend"}]}, 404)
        return JSONResponse(COMPANIES[number])

    async def _adressen(self, request: Request) -> Response:
        headers = self._record(request)
        if headers.get("x-api-key") != self.api_key:
            return JSONResponse(
                {"status": 401, "title": "Niet geauthenticeerd"},
                401,
                media_type="application/problem+json",
            )
        postcode = request.query_params.get("postcode", "")
        number = request.query_params.get("huisnummer", "")
        invalid = [
            name
            for name, ok in (
                ("postcode", _POSTCODE.fullmatch(postcode)),
                ("huisnummer", number.isdigit()),
            )
            if not ok
        ]
        if invalid:
            problem = {
                "status": 400,
                "title": "Een of meerdere parameters zijn niet correct.",
                "invalidParams": [{"name": n, "code": "pattern"} for n in invalid],
            }
            return JSONResponse(problem, 400, media_type="application/problem+json")
        found = ADDRESSES.get((postcode, int(number)), [])
        body: dict[str, Any] = {"_links": {"self": {"href": str(request.url)}}}
        if found:
            body["_embedded"] = {"adressen": found}
        return JSONResponse(body, media_type="application/hal+json")


@contextmanager
def running_registries() -> Iterator[FakeRegistries]:
    """FakeRegistries (KvK and BAG) on a free loopback port; stopped on exit."""
    fakes: list[FakeRegistries] = []

    def app_for(port: int) -> Starlette:
        fake = FakeRegistries(port=port)
        fakes.append(fake)
        return Starlette(
            routes=[
                Route("/api/v1/basisprofielen/{kvk}", fake._basisprofiel, methods=["GET"]),
                Route("/lvbag/individuelebevragingen/v2/adressen", fake._adressen, methods=["GET"]),
            ]
        )

    with serving(app_for, "fake-registries"):
        yield fakes[0]
