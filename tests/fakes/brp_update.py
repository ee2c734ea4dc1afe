"""A fake Haal Centraal BRP Update API 1.0: a real HTTP server on loopback.

As the published specification (specificatie/genereervariant/openapi.yaml of
BRP-API/Haal-Centraal-BRP-Update-API) and its features (volgindicaties.feature,
wijzigingen.feature) define it:

- ``PUT /volgindicaties/{burgerservicenummer}`` with ``{}`` or ``{"einddatum": "<date>"}``:
  sets a follow (201, ``begindatum`` today) or changes the active one (200, its begindatum
  kept); an einddatum of today ends it; one in the past, another field, or a path that is not 9
  digits is 400 problem+json with ``invalidParams``; a body that is not JSON is 415/400.
- ``GET /volgindicaties/{burgerservicenummer}``: the active follow, else 404;
  ``GET /volgindicaties``: every active one.
- ``GET /wijzigingen?vanaf=<date>``: ``burgerservicenummers`` of persons with an active follow
  and a change on a day on or after both ``vanaf`` and the follow's begindatum; each once.

Each API key is one abonnee (``keys``: key -> abonnee); without a known ``X-API-KEY``, 401.
``today`` is the Dutch date unless a test sets it; ``change(bsn, day)`` registers a change.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = ["FakeBrpUpdate", "running_brp_update"]

_BSN = re.compile(r"^[0-9]{9}$")
_DUTCH = ZoneInfo("Europe/Amsterdam")


def _problem(status: int, title: str, params: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if params:
        body["invalidParams"] = params
    return JSONResponse(body, status, media_type="application/problem+json")


def _invalid(name: str, reason: str) -> Response:
    params = [{"name": name, "code": "invalid", "reason": reason}]
    return _problem(400, "Een of meerdere parameters zijn niet correct.", params)


@dataclass
class Follow:
    begindatum: date
    einddatum: date | None

    def active(self, today: date) -> bool:
        return self.einddatum is None or self.einddatum > today


@dataclass
class FakeBrpUpdate:
    port: int
    keys: dict[str, str]
    today: date | None = None
    fail_with: int | None = None  # answer every request with this status (an outage)
    fail_next: list[int] = field(default_factory=list)  # answer the next requests with these
    effects: int = 0  # PUTs that set or changed a follow
    follows: dict[tuple[str, str], Follow] = field(default_factory=dict)  # (abonnee, bsn)
    changes: list[tuple[str, date]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/haalcentraal/api/brpupdate"

    def now(self) -> date:
        return self.today or datetime.now(_DUTCH).date()

    def change(self, bsn: str, day: date) -> None:
        with self._lock:
            self.changes.append((bsn, day))

    def follow(
        self, abonnee: str, bsn: str, begindatum: date, einddatum: date | None = None
    ) -> None:
        with self._lock:
            self.follows[(abonnee, bsn)] = Follow(begindatum, einddatum)

    def received(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path with query, headers) of every request, in order."""
        with self._lock:
            return list(self.requests)

    def _abonnee(self, request: Request) -> str | Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            self.requests.append(
                (
                    request.method,
                    str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
                    headers,
                )
            )
        with self._lock:
            failing = self.fail_next.pop(0) if self.fail_next else self.fail_with
        if failing is not None:
            return _problem(failing, "unavailable" if failing >= 500 else "refused")
        abonnee = self.keys.get(headers.get("x-api-key", ""))
        return abonnee if abonnee is not None else _problem(401, "Niet correct geauthenticeerd.")

    def _shown(self, bsn: str, follow: Follow) -> dict[str, Any]:
        shown: dict[str, Any] = {"burgerservicenummer": bsn, "begindatum": str(follow.begindatum)}
        if follow.einddatum is not None:
            shown["einddatum"] = str(follow.einddatum)
        return shown

    async def _volgindicatie(self, request: Request) -> Response:
        abonnee = self._abonnee(request)
        if isinstance(abonnee, Response):
            return abonnee
        bsn = request.path_params["bsn"]
        if not _BSN.fullmatch(bsn):
            return _invalid("burgerservicenummer", "9 cijfers")
        today = self.now()
        if request.method == "GET":
            with self._lock:
                follow = self.follows.get((abonnee, bsn))
            if follow is None or not follow.active(today):
                return _problem(404, "Opgevraagde resource bestaat niet.")
            return JSONResponse(self._shown(bsn, follow))
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _problem(415, "Media Type wordt niet ondersteund.")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _invalid("body", "geen JSON")
        if not isinstance(body, dict) or set(body) - {"einddatum"}:
            return _invalid("body", "alleen einddatum")
        einddatum = None
        if "einddatum" in body:
            try:
                einddatum = date.fromisoformat(str(body["einddatum"]))
            except ValueError:
                return _invalid("einddatum", "geen datum")
            if einddatum < today:
                return _invalid("einddatum", "mag niet in het verleden liggen")
        with self._lock:
            current = self.follows.get((abonnee, bsn))
            created = current is None or not current.active(today)
            begindatum = today if created or current is None else current.begindatum
            follow = Follow(begindatum, einddatum)
            self.effects += follow != current
            self.follows[(abonnee, bsn)] = follow
        return JSONResponse(self._shown(bsn, follow), 201 if created else 200)

    async def _volgindicaties(self, request: Request) -> Response:
        abonnee = self._abonnee(request)
        if isinstance(abonnee, Response):
            return abonnee
        today = self.now()
        with self._lock:
            active = [
                self._shown(bsn, follow)
                for (owner, bsn), follow in sorted(self.follows.items())
                if owner == abonnee and follow.active(today)
            ]
        return JSONResponse({"volgindicaties": active})

    async def _wijzigingen(self, request: Request) -> Response:
        abonnee = self._abonnee(request)
        if isinstance(abonnee, Response):
            return abonnee
        vanaf = date.min
        if "vanaf" in request.query_params:
            try:
                vanaf = date.fromisoformat(request.query_params["vanaf"])
            except ValueError:
                return _invalid("vanaf", "geen datum")
        today = self.now()
        with self._lock:
            changed = {
                bsn
                for bsn, day in self.changes
                if (follow := self.follows.get((abonnee, bsn))) is not None
                and follow.active(today)
                and day >= max(vanaf, follow.begindatum)
            }
        return JSONResponse(
            {
                "burgerservicenummers": sorted(changed),
                "_links": {"self": {"href": str(request.url)}},
            }
        )


@contextmanager
def running_brp_update(keys: dict[str, str]) -> Iterator[FakeBrpUpdate]:
    """A FakeBrpUpdate on a free loopback port, ``keys`` mapping API key to abonnee."""
    fakes: list[FakeBrpUpdate] = []

    def app_for(port: int) -> Starlette:
        fakes.append(FakeBrpUpdate(port=port, keys=keys))
        fake = fakes[0]
        base = "/haalcentraal/api/brpupdate"
        return Starlette(
            routes=[
                Route(f"{base}/volgindicaties", fake._volgindicaties, methods=["GET"]),
                Route(
                    f"{base}/volgindicaties/{{bsn}}", fake._volgindicatie, methods=["GET", "PUT"]
                ),
                Route(f"{base}/wijzigingen", fake._wijzigingen, methods=["GET"]),
            ]
        )

    with serving(app_for, "fake-brp-update"):
        yield fakes[0]
