"""A fake zaaksysteem speaking the ZGW APIs: Catalogi, Zaken and Documenten API 1.x on one real
HTTP server on loopback, built from the published OpenAPI specifications
(VNG-Realisatie/catalogi-api 1.3, zaken-api 1.5, documenten-api 1.5 ``src/openapi.yaml``).

- Every request needs a ZGW JWT: ``Authorization: Bearer`` HS256 with the shared secret and a
  ``client_id`` claim (else 403, as vng-api-common answers).
- ``GET /catalogi/api/v1/zaaktypen?catalogus=&identificatie=&status=`` and
  ``GET /catalogi/api/v1/roltypen?zaaktype=&omschrijvingGeneriek=&status=``.
- ``GET|POST /zaken/api/v1/zaken`` (``Accept-Crs`` required on both, ``Content-Crs`` on the
  POST: missing 412, another CRS 406), ``GET|POST /zaken/api/v1/rollen``,
  ``GET|POST /zaken/api/v1/zaakinformatieobjecten`` (a plain list),
  ``GET|POST /documenten/api/v1/enkelvoudiginformatieobjecten`` (``inhoud`` base64).
- POSTs are checked as the APIs do: required fields, lengths, a valid RSIN, known zaaktype /
  roltype / informatieobjecttype, the roltype of the zaak's zaaktype, the zaaktype allowing the
  document's informatieobjecttype, unique identificatie per bronorganisatie, one link per zaak
  and document; refusals are 400 ``ValidatieFout`` with ``invalidParams``. Unknown query
  parameters are refused (400 ``unknown-parameters``), as vng-api-common does.

Nothing is idempotent here (the real APIs have no idempotency key): every accepted POST stores a
new object. ``script`` replaces the next answer to one method on one collection, optionally after
the request was handled and stored (an answer lost on the way back).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts.identifiers import passes_elfproef
from tests.fakes.serving import serving

__all__ = ["CLIENT_ID", "SECRET", "FakeZgw", "ZgwConformanceFake", "running_zgw"]

CLIENT_ID = "knooppunt-test"
SECRET = "zgw-fake-secret-0123456789abcdef"
CRS = "EPSG:4326"
Collection = Literal["zaken", "rollen", "zaakinformatieobjecten", "enkelvoudiginformatieobjecten"]
Scriptable = Collection | Literal["bestandsdelen", "unlock"]
_API = {
    "zaken": "zaken",
    "rollen": "zaken",
    "zaakinformatieobjecten": "zaken",
    "enkelvoudiginformatieobjecten": "documenten",
}
_FILTERS = {
    "zaaktypen": {"catalogus", "identificatie", "status", "page"},
    "roltypen": {"zaaktype", "omschrijvingGeneriek", "status", "page"},
    "zaken": {"identificatie", "bronorganisatie", "zaaktype", "page"},
    "rollen": {"zaak", "betrokkeneType", "roltype", "omschrijvingGeneriek", "page"},
    "zaakinformatieobjecten": {"zaak", "informatieobject"},
    "enkelvoudiginformatieobjecten": {"identificatie", "bronorganisatie", "page"},
}
_BETROKKENE = {
    "natuurlijk_persoon": ("inpBsn", 9),
    "niet_natuurlijk_persoon": ("innNnpId", 9),
    "vestiging": ("kvkNummer", 8),
}
_REQUIRED = {
    "zaken": ("bronorganisatie", "zaaktype", "verantwoordelijkeOrganisatie", "startdatum"),
    "rollen": ("zaak", "betrokkeneType", "roltype", "roltoelichting"),
    "zaakinformatieobjecten": ("zaak", "informatieobject"),
    "enkelvoudiginformatieobjecten": (
        "bronorganisatie",
        "creatiedatum",
        "titel",
        "auteur",
        "taal",
        "informatieobjecttype",
    ),
}
_MAX_LENGTH = {
    "identificatie": 40,
    "omschrijving": 80,
    "roltoelichting": 1000,
    "titel": 200,
    "auteur": 200,
    "bestandsnaam": 255,
}


def _error(
    status: int, code: str, title: str, params: list[dict[str, str]] | None = None
) -> Response:
    """An answer in the VNG API error format (``Fout`` / ``ValidatieFout``)."""
    body: dict[str, Any] = {
        "type": f"http://testserver/ref/fouten/{code}/",
        "code": code,
        "title": title,
        "status": status,
        "detail": title,
        "instance": f"urn:uuid:{uuid.uuid4()}",
    }
    if params is not None:
        body["invalidParams"] = params
    return JSONResponse(body, status, media_type="application/problem+json")


def _invalid(name: str, code: str, reason: str = "Ongeldige waarde.") -> dict[str, str]:
    return {"name": name, "code": code, "reason": reason}


@dataclass(frozen=True)
class Received:
    """One request as it arrived, with the status it got."""

    method: str
    collection: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class _Script:
    method: str
    collection: str
    status: int
    after_handling: bool
    delay_s: float
    retry_after: str | None


@dataclass
class FakeZgw:
    port: int
    zaaktypen: list[dict[str, Any]] = field(default_factory=list)
    roltypen: list[dict[str, Any]] = field(default_factory=list)
    informatieobjecttypen: list[str] = field(default_factory=list)
    stores: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in _API}
    )
    contents: dict[str, bytes] = field(default_factory=dict)  # document url -> inhoud
    requests: list[Received] = field(default_factory=list)
    scripts: list[_Script] = field(default_factory=list)
    # Documenten API 1.1+ large files: a document created without inhoud and with a
    # bestandsomvang is locked and gets bestandsdelen of at most this many bytes each.
    bestandsdeel_bytes: int = 1 << 20
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)  # part url -> its state
    locks: dict[str, str] = field(default_factory=dict)  # document url -> its lock
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, name: str) -> str:
        """The base URL of one API: ``catalogi``, ``zaken`` or ``documenten``."""
        return f"{self.base}/{name}/api/v1"

    def add_zaaktype(
        self,
        identificatie: str,
        *,
        begin: str = "2020-01-01",
        einde: str | None = None,
        concept: bool = False,
        initiator: bool = True,
        informatieobjecttype_id: str | None = None,
    ) -> dict[str, Any]:
        """A zaaktype in the catalogus, with an initiator roltype (unless not ``initiator``)
        and one informatieobjecttype it allows (``informatieobjecttype_id`` its uuid, else a
        new one); returns it (``url``, ``informatieobjecttypen``)."""
        catalogi = self.api("catalogi")
        zaaktype_url = f"{catalogi}/zaaktypen/{uuid.uuid4()}"
        iotype = f"{catalogi}/informatieobjecttypen/{informatieobjecttype_id or uuid.uuid4()}"
        zaaktype: dict[str, Any] = {
            "url": zaaktype_url,
            "identificatie": identificatie,
            "catalogus": f"{catalogi}/catalogussen/1c0b4b6e-0000-4000-8000-000000000001",
            "omschrijving": f"Zaaktype {identificatie}",
            "beginGeldigheid": begin,
            "eindeGeldigheid": einde,
            "concept": concept,
            "informatieobjecttypen": [iotype],
            "roltypen": [],
        }
        with self._lock:
            self.informatieobjecttypen.append(iotype)
            if initiator:
                roltype = {
                    "url": f"{catalogi}/roltypen/{uuid.uuid4()}",
                    "zaaktype": zaaktype_url,
                    "omschrijving": "Aanvrager",
                    "omschrijvingGeneriek": "initiator",
                    "concept": concept,
                }
                self.roltypen.append(roltype)
                zaaktype["roltypen"] = [roltype["url"]]
            self.zaaktypen.append(zaaktype)
        return zaaktype

    def script(
        self,
        collection: Scriptable,
        status: int,
        *,
        method: Literal["GET", "POST", "PUT"] = "POST",
        times: int = 1,
        after_handling: bool = False,
        delay_s: float = 0.0,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``times`` ``method`` requests to ``collection`` with ``status``
        (after ``delay_s``); with ``after_handling`` the request is handled, and a create
        stored, first: its answer is lost."""
        with self._lock:
            for _ in range(times):
                self.scripts.append(
                    _Script(method, collection, status, after_handling, delay_s, retry_after)
                )

    def stored(self, collection: Collection) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(o) for o in self.stores[collection]]

    def received(self, method: str | None = None, collection: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and (collection is None or r.collection == collection)
            ]

    def conformance(self, zaaktype: dict[str, Any]) -> ZgwConformanceFake:
        return ZgwConformanceFake(self, zaaktype)

    # --- the server side -----------------------------------------------------------------

    def _record(self, request: Request, collection: str, body: Any, status: int) -> None:
        with self._lock:
            self.requests.append(
                Received(
                    request.method,
                    collection,
                    dict(request.query_params),
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                    status,
                )
            )

    @staticmethod
    def _authenticated(request: Request) -> Response | None:
        given = request.headers.get("authorization", "")
        if not given.startswith("Bearer "):
            return _error(403, "not_authenticated", "Authenticatiegegevens zijn niet opgegeven.")
        try:
            claims = jwt.decode(given[7:], SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return _error(403, "permission_denied", "JWT did not validate.")
        if claims.get("client_id") != CLIENT_ID:
            return _error(403, "permission_denied", "Client identifier bestaat niet.")
        return None

    def _next_script(self, method: str, collection: str) -> _Script | None:
        with self._lock:
            for index, script in enumerate(self.scripts):
                if script.method == method and script.collection == collection:
                    return self.scripts.pop(index)
        return None

    async def _catalogi(self, request: Request) -> Response:
        collection = request.path_params["collection"]
        answer = self._authenticated(request) or self._unknown_parameters(request, collection)
        if answer is None:
            items = self.zaaktypen if collection == "zaaktypen" else self.roltypen
            answer = self._page(self._filtered(request, items))
        self._record(request, collection, None, answer.status_code)
        return answer

    @staticmethod
    def _unknown_parameters(request: Request, collection: str) -> Response | None:
        unknown = sorted(set(request.query_params) - _FILTERS[collection])
        if not unknown:
            return None
        params = [
            _invalid(name, "unknown-parameters", "Onbekende query parameter.") for name in unknown
        ]
        return _error(400, "invalid", "Invalid input.", params)

    @staticmethod
    def _filtered(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in request.query_params.items() if k != "page"}
        status = wanted.pop("status", None)
        return [
            item
            for item in items
            if all(str(item.get(k)) == v for k, v in wanted.items())
            and (
                status is None or status == "alles" or item.get("concept") == (status == "concept")
            )
        ]

    @staticmethod
    def _page(results: list[dict[str, Any]]) -> Response:
        return JSONResponse(
            {"count": len(results), "next": None, "previous": None, "results": results}
        )

    async def _collection(self, request: Request) -> Response:
        collection = request.path_params["collection"]
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw
        script = self._next_script(request.method, collection)
        if script is not None and not script.after_handling:
            answer = self._scripted(script)
        else:
            answer = self._answer(request, collection, body)
            if script is not None:
                answer = self._scripted(script)
        self._record(request, collection, body, answer.status_code)
        if script is not None and script.delay_s:
            await asyncio.sleep(script.delay_s)
        return answer

    @staticmethod
    def _scripted(script: _Script) -> Response:
        headers = {"Retry-After": script.retry_after} if script.retry_after else {}
        if 400 <= script.status < 500:
            params = [_invalid("bronorganisatie", "invalid", "Scripted refusal of 123456789.")]
            answer = _error(script.status, "invalid", "Invalid input.", params)
            answer.headers.update(headers)
            return answer
        return JSONResponse({"detail": "scripted"}, script.status, headers=headers)

    def _answer(self, request: Request, collection: str, body: Any) -> Response:
        if request.path_params["api"] != _API.get(collection):
            return _error(404, "not_found", "Niet gevonden.")
        refused = self._authenticated(request)
        if refused is not None:
            return refused
        if collection == "zaken":
            crs = self._crs(request)
            if crs is not None:
                return crs
        if request.method == "GET":
            return self._unknown_parameters(request, collection) or self._list(request, collection)
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(415, "unsupported_media_type", "Media type wordt niet ondersteund.")
        if not isinstance(body, dict):
            return _error(400, "parse_error", "JSON parse error.")
        problems = self._problems(collection, body)
        if problems:
            return _error(400, "invalid", "Invalid input.", problems)
        return self._create(collection, body)

    @staticmethod
    def _crs(request: Request) -> Response | None:
        names = ("accept-crs", "content-crs") if request.method == "POST" else ("accept-crs",)
        for name in names:
            given = request.headers.get(name)
            if given is None:
                return _error(412, "precondition_failed", f"'{name.title()}' header ontbreekt")
            if given != CRS:
                return _error(406, "not_acceptable", f"CRS '{given}' is niet ondersteund")
        return None

    def _list(self, request: Request, collection: str) -> Response:
        found = self._filtered(request, self.stored(collection))  # type: ignore[arg-type]
        if collection == "zaakinformatieobjecten":
            return JSONResponse(found)
        headers = {"Content-Crs": CRS} if collection == "zaken" else None
        answer = self._page([{k: v for k, v in o.items() if k != "_inhoud"} for o in found])
        if headers:
            answer.headers.update(headers)
        return answer

    def _by_url(self, collection: Collection, url: Any) -> dict[str, Any] | None:
        return next((o for o in self.stored(collection) if o["url"] == url), None)

    def _problems(self, collection: str, body: dict[str, Any]) -> list[dict[str, str]]:
        problems = [
            _invalid(n, "required", "Dit veld is vereist.")
            for n in _REQUIRED[collection]
            if not body.get(n)
        ]
        for name, limit in _MAX_LENGTH.items():
            if isinstance(body.get(name), str) and len(body[name]) > limit:
                problems.append(_invalid(name, "max_length"))
        if problems:
            return problems
        check = {
            "zaken": self._zaak_problems,
            "rollen": self._rol_problems,
            "zaakinformatieobjecten": self._link_problems,
            "enkelvoudiginformatieobjecten": self._document_problems,
        }[collection]
        return check(body)

    def _unique_identificatie(
        self, collection: Collection, body: dict[str, Any]
    ) -> list[dict[str, str]]:
        taken = any(
            o.get("identificatie") == body.get("identificatie")
            and o["bronorganisatie"] == body["bronorganisatie"]
            for o in self.stored(collection)
        )
        return (
            [_invalid("identificatie", "identificatie-niet-uniek")]
            if taken and body.get("identificatie")
            else []
        )

    def _zaak_problems(self, body: dict[str, Any]) -> list[dict[str, str]]:
        problems = []
        for name in ("bronorganisatie", "verantwoordelijkeOrganisatie"):
            value = str(body[name])
            if not (len(value) == 9 and value.isdigit() and passes_elfproef(value)):
                problems.append(_invalid(name, "invalid"))
        zaaktype = next((z for z in self.zaaktypen if z["url"] == body["zaaktype"]), None)
        if zaaktype is None:
            problems.append(_invalid("zaaktype", "bad-url"))
        elif zaaktype["concept"]:
            problems.append(_invalid("zaaktype", "not-published"))
        try:
            date.fromisoformat(str(body["startdatum"]))
        except ValueError:
            problems.append(_invalid("startdatum", "invalid"))
        for index, kenmerk in enumerate(body.get("kenmerken") or []):
            if not isinstance(kenmerk, dict) or len(str(kenmerk.get("kenmerk", ""))) > 40:
                problems.append(_invalid(f"kenmerken.{index}.kenmerk", "max_length"))
        return problems + self._unique_identificatie("zaken", body)

    def _rol_problems(self, body: dict[str, Any]) -> list[dict[str, str]]:
        zaak = self._by_url("zaken", body["zaak"])
        if zaak is None:
            return [_invalid("zaak", "bad-url")]
        roltype = next((r for r in self.roltypen if r["url"] == body["roltype"]), None)
        if roltype is None:
            return [_invalid("roltype", "bad-url")]
        if roltype["zaaktype"] != zaak["zaaktype"]:
            return [_invalid("nonFieldErrors", "zaaktype-mismatch")]
        kind = body["betrokkeneType"]
        if kind not in _BETROKKENE:
            return [_invalid("betrokkeneType", "invalid_choice")]
        name, limit = _BETROKKENE[kind]
        identification = body.get("betrokkeneIdentificatie") or {}
        value = identification.get(name) if isinstance(identification, dict) else None
        if not isinstance(value, str) or not value or len(value) > limit:
            return [_invalid(f"betrokkeneIdentificatie.{name}", "invalid")]
        return []

    def _document_problems(self, body: dict[str, Any]) -> list[dict[str, str]]:
        problems = []
        if body["informatieobjecttype"] not in self.informatieobjecttypen:
            problems.append(_invalid("informatieobjecttype", "bad-url"))
        if len(str(body["taal"])) != 3:
            problems.append(
                _invalid("taal", "min_length" if len(str(body["taal"])) < 3 else "max_length")
            )
        try:
            base64.b64decode(str(body.get("inhoud") or ""), validate=True)
        except binascii.Error:
            problems.append(_invalid("inhoud", "invalid"))
        return problems + self._unique_identificatie("enkelvoudiginformatieobjecten", body)

    def _link_problems(self, body: dict[str, Any]) -> list[dict[str, str]]:
        zaak = self._by_url("zaken", body["zaak"])
        document = self._by_url("enkelvoudiginformatieobjecten", body["informatieobject"])
        if zaak is None:
            return [_invalid("zaak", "bad-url")]
        if document is None:
            return [_invalid("informatieobject", "bad-url")]
        zaaktype = next(z for z in self.zaaktypen if z["url"] == zaak["zaaktype"])
        if document["informatieobjecttype"] not in zaaktype["informatieobjecttypen"]:
            return [_invalid("nonFieldErrors", "missing-zaaktype-informatieobjecttype-relation")]
        if any(
            link["zaak"] == body["zaak"] and link["informatieobject"] == body["informatieobject"]
            for link in self.stored("zaakinformatieobjecten")
        ):
            return [_invalid("nonFieldErrors", "unique")]
        return []

    def _create(self, collection: str, body: dict[str, Any]) -> Response:
        made = str(uuid.uuid4())
        url = f"{self.api(_API[collection])}/{collection}/{made}"
        stored = {**body, "url": url, "uuid": made}
        if collection == "zaken" and not body.get("identificatie"):
            stored["identificatie"] = f"ZAAK-{len(self.stored('zaken')) + 1:010d}"
        if collection == "rollen":
            roltype = next(r for r in self.roltypen if r["url"] == body["roltype"])
            stored["omschrijvingGeneriek"] = roltype["omschrijvingGeneriek"]
        answer_extra: dict[str, Any] = {}
        if collection == "enkelvoudiginformatieobjecten":
            stored["inhoud"] = f"{url}/download?versie=1"
            stored["versie"] = 1
            size = body.get("bestandsomvang")
            if body.get("inhoud") is None and isinstance(size, int) and size > 0:
                answer_extra["lock"] = self._in_parts(stored, size)  # only the creator gets it
            else:
                content = base64.b64decode(str(body.get("inhoud") or ""))
                stored["bestandsomvang"], stored["locked"] = len(content), False
                stored["bestandsdelen"] = []
                with self._lock:
                    self.contents[url] = content
        with self._lock:
            self.stores[collection].append(stored)
        headers = {"Location": url}
        if collection == "zaken":
            headers["Content-Crs"] = CRS
        return JSONResponse({**stored, **answer_extra}, 201, headers=headers)

    def _in_parts(self, stored: dict[str, Any], size: int) -> str:
        """Lock a new document and cut its ``size`` bytes into bestandsdelen; the lock."""
        lock = uuid.uuid4().hex
        stored["locked"], stored["bestandsdelen"] = True, []
        with self._lock:
            self.locks[stored["url"]] = lock
            for number, start in enumerate(range(0, size, self.bestandsdeel_bytes), 1):
                part = f"{self.api('documenten')}/bestandsdelen/{uuid.uuid4()}"
                omvang = min(self.bestandsdeel_bytes, size - start)
                self.parts[part] = {"document": stored["url"], "omvang": omvang, "inhoud": None}
                stored["bestandsdelen"].append(
                    {"url": part, "volgnummer": number, "omvang": omvang, "voltooid": False}
                )
        return lock

    async def _bestandsdeel(self, request: Request) -> Response:
        """``PUT bestandsdelen/{uuid}``: multipart/form-data with ``inhoud`` (the part's bytes,
        exactly ``omvang`` of them) and ``lock`` (the document's)."""
        part_url = f"{self.api('documenten')}/bestandsdelen/{request.path_params['uuid']}"
        script = self._next_script("PUT", "bestandsdelen")
        if script is not None and not script.after_handling:
            self._record(request, "bestandsdelen", None, script.status)
            return self._scripted(script)
        answer = self._authenticated(request) or await self._take_part(request, part_url)
        if script is not None:
            answer = self._scripted(script)
        self._record(request, "bestandsdelen", None, answer.status_code)
        return answer

    async def _take_part(self, request: Request, part_url: str) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return _error(415, "unsupported_media_type", "Media type wordt niet ondersteund.")
        async with request.form() as form:
            inhoud, lock = form.get("inhoud"), form.get("lock")
            content = None if inhoud is None or isinstance(inhoud, str) else await inhoud.read()
        with self._lock:
            part = self.parts.get(part_url)
        if part is None:
            return _error(404, "not_found", "Niet gevonden.")
        if not isinstance(lock, str) or lock != self.locks.get(part["document"]):
            return _error(400, "invalid", "Invalid input.", [_invalid("lock", "incorrect-lock-id")])
        if content is None:
            return _error(400, "invalid", "Invalid input.", [_invalid("inhoud", "required")])
        if len(content) != part["omvang"]:
            return _error(400, "invalid", "Invalid input.", [_invalid("inhoud", "file-size")])
        with self._lock:
            part["inhoud"] = content
            document = next(
                d
                for d in self.stores["enkelvoudiginformatieobjecten"]
                if d["url"] == part["document"]
            )
            for listed_part in document["bestandsdelen"]:
                if listed_part["url"] == part_url:
                    listed_part["voltooid"] = True
        return JSONResponse({"url": part_url, "omvang": part["omvang"], "voltooid": True})

    async def _unlock(self, request: Request) -> Response:
        """``POST enkelvoudiginformatieobjecten/{uuid}/unlock`` ``{"lock"}``: the parts become
        the document's content (all must be there: else 400 incomplete-upload)."""
        url = (
            f"{self.api('documenten')}/enkelvoudiginformatieobjecten/{request.path_params['uuid']}"
        )
        script = self._next_script("POST", "unlock")
        answer = self._authenticated(request) or self._unlocked(url, await request.body())
        if script is not None:
            answer = self._scripted(script)
        self._record(request, "unlock", None, answer.status_code)
        return answer

    def _unlocked(self, url: str, raw: bytes) -> Response:
        try:
            lock = orjson.loads(raw).get("lock")
        except (orjson.JSONDecodeError, AttributeError):
            return _error(400, "parse_error", "JSON parse error.")
        with self._lock:
            if url not in self.locks:
                return _error(
                    400, "invalid", "Invalid input.", [_invalid("nonFieldErrors", "unlocked")]
                )
            if lock != self.locks[url]:
                return _error(
                    400, "invalid", "Invalid input.", [_invalid("lock", "incorrect-lock-id")]
                )
            document = next(
                d for d in self.stores["enkelvoudiginformatieobjecten"] if d["url"] == url
            )
            parts = [self.parts[p["url"]] for p in document["bestandsdelen"]]
            if any(part["inhoud"] is None for part in parts):
                return _error(
                    400,
                    "invalid",
                    "Invalid input.",
                    [_invalid("nonFieldErrors", "incomplete-upload")],
                )
            self.contents[url] = b"".join(part["inhoud"] for part in parts)
            document["locked"], document["bestandsdelen"] = False, []
            del self.locks[url]
        return Response(status_code=204)


@dataclass(frozen=True)
class ZgwConformanceFake:
    """The fake as the shared conformance suite drives it (connectors.sdk.conformance)."""

    zgw: FakeZgw
    zaaktype: dict[str, Any]

    def settings(self) -> dict[str, Any]:
        return {
            "zaken_api": self.zgw.api("zaken"),
            "catalogi_api": self.zgw.api("catalogi"),
            "documenten_api": self.zgw.api("documenten"),
            "auth": {
                "type": "zgw-jwt",
                "client_id": CLIENT_ID,
                "secret_env": "KNOOPPUNT_ZGW_SECRET",
            },
            "zaaktype": self.zaaktype["identificatie"],
            "informatieobjecttype": self.zaaktype["informatieobjecttypen"][0],
        }

    def fail_next(self, kind: str) -> None:
        self.zgw.script("zaken", 503 if kind == "retryable" else 400)

    def effects(self) -> int:
        return len(self.zgw.stored("zaken"))


@contextmanager
def running_zgw(port: int = 0) -> Iterator[FakeZgw]:
    """A FakeZgw on a free loopback port; stopped on exit."""
    fakes: list[FakeZgw] = []

    def app_for(port: int) -> Starlette:
        fakes.append(FakeZgw(port=port))
        fake = fakes[0]
        documents = "/documenten/api/v1/enkelvoudiginformatieobjecten/{uuid:str}/unlock"
        routes = [
            Route("/catalogi/api/v1/{collection:str}", fake._catalogi, methods=["GET"]),
            Route(
                "/documenten/api/v1/bestandsdelen/{uuid:str}", fake._bestandsdeel, methods=["PUT"]
            ),
            Route(documents, fake._unlock, methods=["POST"]),
            Route("/{api:str}/api/v1/{collection:str}", fake._collection, methods=["GET", "POST"]),
        ]
        return Starlette(routes=routes)

    with serving(app_for, "fake-zgw", port):
        yield fakes[0]
