"""A fake Haal Centraal BRP bevragen API (BRP personen v2): a real HTTP server on loopback.

``POST /personen`` with ``{"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer":
[...], "fields": [...]}`` as the published OpenAPI specification defines it: ``burgerservicenummer``
1 to 20 strings of 9 digits, ``fields`` 1 to 130 field paths (``naam``, ``geboorte.datum``) of the
Persoon resource, nothing else in the body. The answer holds only the fields asked for, of the
persons it knows (an unknown BSN is no person, not an error). Wrong input is 400 problem+json
with ``invalidParams``; without the configured API key, 401. Every request is recorded.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = ["PERSONS", "FakeBrp", "running_brp"]

_BSN = re.compile(r"^[0-9]{9}$")
_FIELD = re.compile(r"^[a-zA-Z0-9._]{1,200}$")
_TOP_LEVEL = ("naam", "geboorte", "adressering", "geslacht", "burgerservicenummer", "leeftijd")
PERSONS: dict[str, dict[str, Any]] = {
    "999993653": {
        "burgerservicenummer": "999993653",
        "geslacht": {"code": "V", "omschrijving": "vrouw"},
        "leeftijd": 46,
        "naam": {
            "voornamen": "Suzanne",
            "geslachtsnaam": "Moulin",
            "voorletters": "S.",
            "volledigeNaam": "Suzanne Moulin",
        },
        "geboorte": {
            "datum": {"type": "Datum", "datum": "1980-04-01", "langFormaat": "1 april 1980"},
            "plaats": {"code": "0518", "omschrijving": "'s-Gravenhage"},
        },
        "adressering": {
            "adresregel1": "Dam 1",
            "adresregel2": "1012 JS  AMSTERDAM",
            "aanhef": "Geachte mevrouw Moulin",
        },
    }
}


def _problem(status: int, title: str, params: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if params:
        body["invalidParams"] = params
    return JSONResponse(body, status, media_type="application/problem+json")


def _pick(person: dict[str, Any], path: str) -> Any:
    value: Any = person
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _only(person: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for path in fields:
        value = _pick(person, path)
        if value is None:
            continue
        *parents, last = path.split(".")
        place = shown
        for part in parents:
            place = place.setdefault(part, {})
        place[last] = value
    return shown


@dataclass
class FakeBrp:
    port: int
    api_key: str | None = None
    fail_with: int | None = None  # answer every request with this status (an outage)
    requests: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/haalcentraal/api/brp"

    def received(self) -> list[tuple[dict[str, str], Any]]:
        with self._lock:
            return list(self.requests)

    def _invalid(self, body: Any) -> list[dict[str, str]]:
        if not isinstance(body, dict):
            return [{"name": "body", "code": "object", "reason": "expected a JSON object"}]
        params = [
            {"name": name, "code": "unknownParam", "reason": "parameter is not allowed"}
            for name in body
            if name not in ("type", "burgerservicenummer", "fields", "gemeenteVanInschrijving")
        ]
        if body.get("type") != "RaadpleegMetBurgerservicenummer":
            params.append({"name": "type", "code": "value", "reason": "unknown type"})
        numbers = body.get("burgerservicenummer")
        if not (isinstance(numbers, list) and 1 <= len(numbers) <= 20) or not all(
            isinstance(n, str) and _BSN.fullmatch(n) for n in numbers
        ):
            params.append(
                {"name": "burgerservicenummer", "code": "pattern", "reason": "1-20 x 9 digits"}
            )
        fields = body.get("fields")
        if not (isinstance(fields, list) and 1 <= len(fields) <= 130) or not all(
            isinstance(f, str) and _FIELD.fullmatch(f) and f.split(".")[0] in _TOP_LEVEL
            for f in fields
        ):
            params.append({"name": "fields", "code": "fields", "reason": "unknown field(s)"})
        return params

    async def _personen(self, request: Request) -> Response:
        raw = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        with self._lock:
            self.requests.append((headers, body))
        if self.fail_with is not None:
            return _problem(self.fail_with, "unavailable")
        if self.api_key is not None and headers.get("x-api-key") != self.api_key:
            return _problem(401, "Niet correct geauthenticeerd.")
        if not headers.get("content-type", "").startswith("application/json"):
            return _problem(415, "Media Type wordt niet ondersteund.")
        invalid = self._invalid(body)
        if invalid:
            return _problem(400, "Een of meerdere parameters zijn niet correct.", invalid)
        personen = [
            _only(PERSONS[n], body["fields"]) for n in body["burgerservicenummer"] if n in PERSONS
        ]
        return JSONResponse({"type": "RaadpleegMetBurgerservicenummer", "personen": personen})


@contextmanager
def running_brp(api_key: str | None = None) -> Iterator[FakeBrp]:
    """A FakeBrp on a free loopback port; stopped on exit."""
    fakes: list[FakeBrp] = []

    def app_for(port: int) -> Starlette:
        fakes.append(FakeBrp(port=port, api_key=api_key))
        route = Route("/haalcentraal/api/brp/personen", fakes[0]._personen, methods=["POST"])
        return Starlette(routes=[route])

    with serving(app_for, "fake-brp"):
        yield fakes[0]
