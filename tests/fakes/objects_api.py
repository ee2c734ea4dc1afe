"""A fake Objecttypes API and Objects API (Open Objecten, API 2.x): one real HTTP server on
loopback, built from the published OpenAPI specifications (maykinmedia/objects-api
``src/objects/api/v2/openapi.yaml``, maykinmedia/objecttypes-api ``src/objecttypes/api/v2``).

- ``GET /objecttypes/api/v2/objecttypes/{uuid}/versions/{n}``: an ``ObjectTypeVersion`` with its
  ``jsonSchema``.
- ``GET /objecten/api/v2/objects?type=&data_attr=&data_attrs=``: a ``PaginatedObjectList``;
  ``data_attr`` / ``data_attrs`` filters with ``exact`` on a data field (``a__b`` nested).
- ``POST /objecten/api/v2/objects``: as Open Objecten checks it: ``Authorization: Token <key>``
  (else 401), ``Content-Crs: EPSG:4326`` (missing 412, another 406), ``application/json`` (415),
  ``type`` a known objecttype, ``record.typeVersion`` one of its versions, ``record.startAt`` a
  date, ``record.geometry`` GeoJSON when given, and ``record.data`` valid under that version's
  JSON Schema (``jsonschema.validate``, as ``objects.core.utils.check_objecttype``); refusals are
  400 in the VNG error format with ``invalidParams``. 201 with the stored Object.

Objects are stored as the real API stores them: it has no idempotency key, so every accepted
POST is a new object (``effects()`` counts them). Scripted answers (``script``) replace the
next answers to one method, optionally after the request was handled and stored (an answer
lost on the way back).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import jsonschema
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = [
    "TOKEN",
    "FakeObjectsApi",
    "ObjectsApiConformanceFake",
    "Received",
    "running_objects_api",
]

TOKEN = "objects-fake-token-0123456789"
CRS = "EPSG:4326"
_GEOMETRY = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _error(
    status: int, code: str, title: str, params: list[dict[str, str]] | None = None
) -> Response:
    """An answer in the VNG API error format (vng_api_common.exception_handling)."""
    body: dict[str, Any] = {
        "type": f"http://testserver/ref/fouten/{code}/",
        "code": code,
        "title": title,
        "status": status,
        "detail": title if params is None else "",
        "instance": f"urn:uuid:{uuid.uuid4()}",
    }
    if params is not None:
        body["invalidParams"] = params
    headers = {"WWW-Authenticate": "Token"} if status == 401 else None
    return JSONResponse(body, status, headers=headers)


def _invalid(name: str, code: str, reason: str) -> dict[str, str]:
    return {"name": name, "code": code, "reason": reason}


@dataclass(frozen=True)
class Received:
    """One request as it arrived, with the status it got."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class _Script:
    method: str
    status: int
    after_handling: bool  # handle (and store) first, then answer ``status`` instead
    delay_s: float
    retry_after: str | None


@dataclass
class FakeObjectsApi:
    port: int
    objecttypes: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    scripts: list[_Script] = field(default_factory=list)
    token: str = TOKEN
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def objects_api(self) -> str:
        return f"http://127.0.0.1:{self.port}/objecten/api/v2"

    def objecttype_url(self, objecttype: str) -> str:
        return f"http://127.0.0.1:{self.port}/objecttypes/api/v2/objecttypes/{objecttype}"

    def add_objecttype(self, schema: dict[str, Any], version: int = 1) -> str:
        """Publish ``schema`` as ``version`` of a new objecttype (or of the one last added, when
        it has no such version yet); returns the objecttype's URL."""
        with self._lock:
            objecttype = str(uuid.uuid5(uuid.NAMESPACE_URL, f"objecttype-{len(self.objecttypes)}"))
            self.objecttypes[objecttype] = {version: schema}
        return self.objecttype_url(objecttype)

    def set_schema(self, objecttype_url: str, version: int, schema: dict[str, Any]) -> None:
        """Replace (or add) ``version``'s schema (a draft version changed after a sink started)."""
        with self._lock:
            self.objecttypes[objecttype_url.rsplit("/", 1)[1]][version] = schema

    def script(
        self,
        status: int,
        *,
        method: Literal["GET", "POST"] = "POST",
        times: int = 1,
        after_handling: bool = False,
        delay_s: float = 0.0,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests of ``method`` to /objects with ``status`` (after
        ``delay_s``); with ``after_handling`` the request is handled, and a create stored, first."""
        with self._lock:
            for _ in range(times):
                self.scripts.append(_Script(method, status, after_handling, delay_s, retry_after))

    def stored(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(o) for o in self.objects]

    def received(self, method: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if method is None or r.method == method]

    def effects(self) -> int:
        return len(self.stored())

    def conformance(self, objecttype_url: str) -> ObjectsApiConformanceFake:
        return ObjectsApiConformanceFake(self, objecttype_url)

    # --- the server side -----------------------------------------------------------------

    def _record(self, request: Request, body: Any, status: int) -> None:
        with self._lock:
            self.requests.append(
                Received(
                    request.method,
                    request.url.path,
                    {k: request.query_params.getlist(k) for k in request.query_params},
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                    status,
                )
            )

    def _authenticated(self, request: Request) -> Response | None:
        given = request.headers.get("authorization")
        if given is None:
            return _error(401, "not_authenticated", "Authenticatiegegevens zijn niet opgegeven.")
        if given != f"Token {self.token}":
            return _error(401, "authentication_failed", "Ongeldige token.")
        return None

    def _next_script(self, method: str) -> _Script | None:
        with self._lock:
            for index, script in enumerate(self.scripts):
                if script.method == method:
                    return self.scripts.pop(index)
        return None

    async def _version(self, request: Request) -> Response:
        refused = self._authenticated(request)
        objecttype = request.path_params["objecttype"]
        version = request.path_params["version"]
        with self._lock:
            schema = self.objecttypes.get(objecttype, {}).get(int(version))
        answer = refused or (
            _error(404, "not_found", "Niet gevonden.")
            if schema is None
            else JSONResponse(
                {
                    "url": f"{self.objecttype_url(objecttype)}/versions/{version}",
                    "version": int(version),
                    "objectType": self.objecttype_url(objecttype),
                    "status": "published",
                    "jsonSchema": schema,
                    "createdAt": "2026-01-05",
                    "modifiedAt": "2026-01-05",
                    "publishedAt": "2026-01-05",
                }
            )
        )
        self._record(request, None, answer.status_code)
        return answer

    async def _objects(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw
        script = self._next_script(request.method)
        if script is not None and not script.after_handling:
            answer = self._scripted(script)
        else:
            answer = self._answer(request, body)
        if script is not None and script.after_handling:
            answer = self._scripted(script)
        self._record(request, body, answer.status_code)  # before the delay: the client may go
        if script is not None and script.delay_s:
            await asyncio.sleep(script.delay_s)
        return answer

    def _scripted(self, script: _Script) -> Response:
        headers = {"Retry-After": script.retry_after} if script.retry_after else {}
        if 400 <= script.status < 500:
            answer = _error(script.status, "scripted", "Scripted refusal.", [])
            answer.headers.update(headers)
            return answer
        return JSONResponse({"detail": "scripted"}, script.status, headers=headers)

    def _answer(self, request: Request, body: Any) -> Response:
        refused = self._authenticated(request)
        if refused is not None:
            return refused
        accept_crs = request.headers.get("accept-crs")
        if accept_crs is not None and accept_crs != CRS:
            return _error(406, "not_acceptable", f"CRS '{accept_crs}' is niet ondersteund")
        if request.method == "GET":
            return self._list(request)
        content_crs = request.headers.get("content-crs")
        if content_crs is None:
            return _error(412, "precondition_failed", "'Content-Crs' header ontbreekt")
        if content_crs != CRS:
            return _error(406, "not_acceptable", f"CRS '{content_crs}' is niet ondersteund")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(415, "unsupported_media_type", "Media type wordt niet ondersteund.")
        return self._create(body)

    def _list(self, request: Request) -> Response:
        expressions = request.query_params.getlist("data_attr")
        for joined in request.query_params.getlist("data_attrs"):
            expressions += joined.split(",")
        for expression in expressions:
            if expression.count("__") < 2 or expression.rsplit("__", 2)[1] != "exact":
                invalid = _invalid("data_attr", "invalid-data-attr-query", "not exact")
                return _error(400, "invalid", "Invalid input.", [invalid])
        wanted_type = request.query_params.get("type")
        matches = [
            stored
            for stored in self.stored()
            if (wanted_type is None or stored["type"] == wanted_type)
            and all(self._matches(stored["record"]["data"], e) for e in expressions)
        ]
        body = {"count": len(matches), "next": None, "previous": None, "results": matches}
        return JSONResponse(body, headers={"Content-Crs": CRS})

    @staticmethod
    def _matches(data: dict[str, Any], expression: str) -> bool:
        path, _, value = expression.rsplit("__", 2)
        found: Any = data
        for part in path.split("__"):
            found = found.get(part) if isinstance(found, dict) else None
        return isinstance(found, str | int | float) and str(found) == value

    def _create(self, body: Any) -> Response:
        problems = self._field_problems(body)
        if problems:
            return _error(400, "invalid", "Invalid input.", problems)
        objecttype = body["type"].rstrip("/").rsplit("/", 1)[1]
        record = body["record"]
        with self._lock:
            schema = self.objecttypes[objecttype].get(record["typeVersion"])
        if schema is None:
            reason = f"Object type version: {record['typeVersion']} does not appear to exist."
            params = [_invalid("nonFieldErrors", "invalid-json-schema", reason)]
            return _error(400, "invalid", "Invalid input.", params)
        try:
            jsonschema.validate(record.get("data", {}), schema)
        except jsonschema.ValidationError as exc:
            params = [_invalid("nonFieldErrors", "invalid-json-schema", exc.message)]
            return _error(400, "invalid", "Invalid input.", params)
        made = str(uuid.uuid4())
        stored = {
            "url": f"{self.objects_api}/objects/{made}",
            "uuid": made,
            "type": body["type"],
            "record": {
                "index": 1,
                "typeVersion": record["typeVersion"],
                "data": record.get("data", {}),
                "geometry": record.get("geometry"),
                "references": [],
                "startAt": record["startAt"],
                "endAt": None,
                "registrationAt": date.today().isoformat(),
                "correctionFor": None,
                "correctedBy": None,
            },
        }
        with self._lock:
            self.objects.append(stored)
        return JSONResponse(stored, 201, headers={"Content-Crs": CRS})

    def _field_problems(self, body: Any) -> list[dict[str, str]]:
        """Field-level refusals, as the serializer gives them before the schema validator."""
        if not isinstance(body, dict):
            return [_invalid("nonFieldErrors", "invalid", "Invalid data.")]
        problems = []
        known_types = {self.objecttype_url(t) for t in self.objecttypes}
        if "type" not in body:
            problems.append(_invalid("type", "required", "Dit veld is vereist."))
        elif str(body["type"]).rstrip("/") not in known_types:
            problems.append(_invalid("type", "does_not_exist", "Unknown objecttype."))
        record = body.get("record")
        if not isinstance(record, dict):
            problems.append(_invalid("record", "required", "Dit veld is vereist."))
            return problems
        version = record.get("typeVersion")
        if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= 32767:
            problems.append(_invalid("record.typeVersion", "invalid", "Een geldig getal."))
        try:
            date.fromisoformat(record["startAt"])
        except (KeyError, TypeError, ValueError):
            problems.append(_invalid("record.startAt", "invalid", "Een geldige datum."))
        if "data" in record and not isinstance(record["data"], dict):
            problems.append(_invalid("record.data", "invalid", "Een JSON-object."))
        geometry = record.get("geometry")
        if geometry is not None and not (
            isinstance(geometry, dict)
            and geometry.get("type") in _GEOMETRY
            and isinstance(geometry.get("coordinates"), list)
        ):
            problems.append(_invalid("record.geometry", "invalid", "Geen geldige geometrie."))
        return problems


@dataclass(frozen=True)
class ObjectsApiConformanceFake:
    """The fake as the shared conformance suite drives it (connectors.sdk.conformance)."""

    api: FakeObjectsApi
    objecttype_url: str

    def settings(self) -> dict[str, Any]:
        return {"objects_api": self.api.objects_api, "objecttype": self.objecttype_url}

    def fail_next(self, kind: str) -> None:
        self.api.script(503 if kind == "retryable" else 400)

    def effects(self) -> int:
        return self.api.effects()


@contextmanager
def running_objects_api(port: int = 0) -> Iterator[FakeObjectsApi]:
    """A FakeObjectsApi on a free loopback port; stopped on exit."""
    fakes: list[FakeObjectsApi] = []

    def app_for(port: int) -> Starlette:
        fakes.append(FakeObjectsApi(port=port))
        fake = fakes[0]
        versions = "/objecttypes/api/v2/objecttypes/{objecttype}/versions/{version:int}"
        routes = [
            Route(versions, fake._version, methods=["GET"]),
            Route("/objecten/api/v2/objects", fake._objects, methods=["GET", "POST"]),
        ]
        return Starlette(routes=routes)

    with serving(app_for, "fake-objects-api", port):
        yield fakes[0]
