"""A fake zaaksysteem speaking StUF-ZDS 1.2 (Zaak- en Documentservices) over SOAP 1.1 on one
real HTTP server on loopback, built from the WSDLs and schemas (StUF-ZKN 3.10 zs-dms, patch 28;
StUF 3.01), written apart from the sink so that it catches the sink's mistakes.

- ``POST /zds`` takes every operation; ``POST /VrijeBerichten`` only the Di02s and
  ``POST /OntvangAsynchroon`` only the Lk01s (a service's own URL).
- Each request must be SOAP 1.1: ``Content-Type: text/xml; charset=utf-8``, a ``SOAPAction``
  (quoted or not) naming the operation whose message is in the Body, the SOAP 1.1 envelope
  namespace. Otherwise a SOAP Fault (``soap:Client`` / ``soap:VersionMismatch``) or 415.
- The message's elements must be named and ordered as the schemas say (the fake's own table,
  ``_ORDER``): otherwise Fo02/Fo03 ``StUF055`` (plek client), as zaaksystemen answer a body
  that does not validate.
- Stuurgegevens: the ontvanger must be this zaaksysteem (``StUF010``), the zender the one it
  knows (``StUF013``), the referentienummer new for that zender (``StUF016``), all plek client.
- ``genereerZaakIdentificatie_Di02`` / ``genereerDocumentIdentificatie_Di02`` answer a Du02
  with a new identificatie; ``creeerZaak_Lk01`` (``zakLk01``) stores the zaak and
  ``voegZaakdocumentToe_Lk01`` (``edcLk01``) the document (its zaak must exist: ``StUF064``),
  answering Bv03. A zaak or document whose identificatie is taken is refused with Fo03
  ``EXISTS_CODE`` (plek client): StUF 3.01 has no code for it, zaaksystemen use their own.
- Faults come as HTTP 500 with a SOAP Fault whose ``detail`` holds the StUF Fo-bericht.

``script`` replaces the next answer to one operation: a StUF fault (``server``/``client``, or
any code and plek), plain HTTP 500, 503 with Retry-After, or a hang; with ``after_handling``
the message is handled (and stored) first, so its answer is lost.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = [
    "EXISTS_CODE",
    "ONTVANGER",
    "ZAAKTYPE",
    "ZENDER",
    "FakeStufZds",
    "Received",
    "StufZdsConformanceFake",
    "order_problems",
    "running_stuf_zds",
]

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
STUF = "http://www.egem.nl/StUF/StUF0301"
ZKN = "http://www.egem.nl/StUF/sector/zkn/0310"
BG = "http://www.egem.nl/StUF/sector/bg/0310"
ZENDER = {"organisatie": "0363", "applicatie": "KNOOPPUNT"}
ONTVANGER = {"organisatie": "0363", "applicatie": "ZAAKSYSTEEM"}
ZAAKTYPE = "B1026"
EXISTS_CODE = "ZKN0001"
Operation = Literal[
    "genereerZaakIdentificatie_Di02",
    "genereerDocumentIdentificatie_Di02",
    "creeerZaak_Lk01",
    "voegZaakdocumentToe_Lk01",
]
# Body element -> the operation that sends it, and the service that offers it.
_OPERATIONS: dict[str, tuple[Operation, str]] = {
    "genereerZaakIdentificatie_Di02": ("genereerZaakIdentificatie_Di02", "VrijeBerichten"),
    "genereerDocumentIdentificatie_Di02": (
        "genereerDocumentIdentificatie_Di02",
        "VrijeBerichten",
    ),
    "zakLk01": ("creeerZaak_Lk01", "OntvangAsynchroon"),
    "edcLk01": ("voegZaakdocumentToe_Lk01", "OntvangAsynchroon"),
}


def _names(text: str) -> list[str]:
    return text.split()


# Children in schema order, by "element" or "element@entiteittype" (the fake's own reading of
# zkn0310_msg_zs-dms.xsd, zkn0310_msg_mutatie.xsd, zkn0310_ent_mutatie.xsd,
# zkn0310_bg0310_ent.xsd and stuf0301.xsd). "+" marks a child that may repeat.
_ORDER: dict[str, list[str]] = {
    "genereerZaakIdentificatie_Di02": _names("stuurgegevens"),
    "genereerDocumentIdentificatie_Di02": _names("stuurgegevens"),
    "zakLk01": _names("stuurgegevens parameters object+"),
    "edcLk01": _names("stuurgegevens parameters object+"),
    "stuurgegevens@Di02": _names(
        "berichtcode zender ontvanger referentienummer tijdstipBericht functie"
    ),
    "stuurgegevens@Lk01": _names(
        "berichtcode zender ontvanger referentienummer tijdstipBericht entiteittype"
    ),
    "zender": _names("organisatie applicatie administratie gebruiker"),
    "ontvanger": _names("organisatie applicatie administratie gebruiker"),
    "parameters": _names("mutatiesoort indicatorOvername"),
    "object@ZAK": _names(
        "identificatie omschrijving toelichting kenmerk+ anderZaakObject+ resultaat startdatum "
        "registratiedatum publicatiedatum einddatumGepland uiterlijkeEinddatum einddatum "
        "opschorting verlenging betalingsIndicatie laatsteBetaaldatum archiefnominatie "
        "datumVernietigingDossier zaakniveau deelzakenIndicatie tijdvakGeldigheid "
        "tijdstipRegistratie extraElementen isVan heeftBetrekkingOp+ heeftAlsBelanghebbende+ "
        "heeftAlsGemachtigde+ heeftAlsInitiator heeftAlsUitvoerende+ heeftAlsVerantwoordelijke+ "
        "heeftAlsOverigBetrokkene+ heeftAlsDeelzaak+ heeftBetrekkingOpAndere+ heeft+ leidtTot+"
    ),
    "kenmerk": _names("kenmerk bron"),
    "isVan@ZAKZKT": _names("gerelateerde extraElementen"),
    "gerelateerde@ZKT": _names("omschrijving code ingangsdatumObject"),
    "heeftAlsInitiator@ZAKBTRINI": _names(
        "gerelateerde code omschrijving toelichting afwijkendCorrespondentieAdres "
        "afwijkendBuitenlandsCorrespondentieAdres tijdvakRelatie tijdvakGeldigheid "
        "tijdstipRegistratie extraElementen heeftAlsAanspreekpunt"
    ),
    "natuurlijkPersoon@NPS": _names(
        "inp.bsn authentiek anp.identificatie geslachtsnaam voorvoegselGeslachtsnaam voorletters "
        "voornamen geslachtsaanduiding geboortedatum verblijfsadres sub.verblijfBuitenland"
    ),
    "nietNatuurlijkPersoon@NNP": _names(
        "inn.nnpId authentiek ann.identificatie statutaireNaam inn.rechtsvorm bezoekadres "
        "sub.verblijfBuitenland"
    ),
    "vestiging@VES": _names(
        "vestigingsNummer authentiek handelsnaam verblijfsadres sub.verblijfBuitenland"
    ),
    "extraElementen": _names("extraElement+"),
    "tijdvakGeldigheid": _names("beginGeldigheid eindGeldigheid"),
    "object@EDC": _names(
        "identificatie dct.omschrijving creatiedatum ontvangstdatum titel beschrijving formaat "
        "taal versie status verzenddatum vertrouwelijkAanduiding auteur link inhoud "
        "tijdvakGeldigheid tijdstipRegistratie extraElementen isRelevantVoor+"
    ),
    "isRelevantVoor@EDCZAK": _names(
        "gerelateerde titel beschrijving registratiedatum stt.volgnummer stt.omschrijving "
        "sta.datumStatusGezet tijdvakRelatie tijdvakGeldigheid tijdstipRegistratie extraElementen"
    ),
    "gerelateerde@ZAK": _names("identificatie omschrijving isVan"),
}
# The initiator's gerelateerde (BTR, no entiteittype) holds one of these.
_BETROKKENE = _names(
    "medewerker organisatorischeEenheid natuurlijkPersoon nietNatuurlijkPersoon vestiging"
)
_STUF_NAMES = set(
    _names(
        "administratie applicatie beginGeldigheid berichtcode eindGeldigheid entiteittype "
        "extraElement extraElementen functie gebruiker indicatorOvername mutatiesoort ontvanger "
        "organisatie referentienummer tijdstipBericht tijdstipRegistratie tijdvakGeldigheid "
        "tijdvakRelatie zender"
    )
)
_BG_PARENTS = {"natuurlijkPersoon", "nietNatuurlijkPersoon", "vestiging"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _key(element: etree._Element, parent: etree._Element | None) -> str:
    local = _local(element)
    if local == "stuurgegevens" and parent is not None:
        return f"stuurgegevens@{'Di02' if _local(parent).endswith('_Di02') else 'Lk01'}"
    soort = element.get(f"{{{STUF}}}entiteittype")
    if local == "gerelateerde" and soort is None and parent is not None:
        return "gerelateerde@BTR"
    return f"{local}@{soort}" if soort and f"{local}@{soort}" in _ORDER else local


def _namespace_of(local: str, parent_local: str) -> str:
    if local in _STUF_NAMES:
        return STUF
    return BG if parent_local in _BG_PARENTS else ZKN


def order_problems(message: etree._Element) -> list[str]:
    """Where ``message`` (the Body's child) strays from the schemas' names and order."""
    problems: list[str] = []

    def walk(element: etree._Element, parent: etree._Element | None, path: str) -> None:
        key = _key(element, parent)
        children = [c for c in element if isinstance(c.tag, str)]
        if key == "gerelateerde@BTR":
            allowed = _BETROKKENE
            if len(children) > 1:
                problems.append(f"{path}: more than one betrokkene")
        else:
            allowed = _ORDER.get(key, [])
        names = [name.rstrip("+") for name in allowed]
        last = -1
        for child in children:
            local = _local(child)
            where = f"{path}/{local}"
            if etree.QName(child).namespace != _namespace_of(local, _local(element)):
                problems.append(f"{where}: wrong namespace {etree.QName(child).namespace}")
            if local not in names:
                if key in _ORDER or key == "gerelateerde@BTR":
                    problems.append(f"{where}: unexpected in {key}")
                continue
            index = names.index(local)
            repeats = allowed[index].endswith("+")
            if index < last or (index == last and not repeats):
                problems.append(f"{where}: out of schema order in {key}")
            last = max(last, index)
            walk(child, element, where)

    walk(message, None, _local(message))
    return problems


@dataclass(frozen=True)
class Received:
    """One request as it arrived: where, its SOAPAction, Content-Type, the operation its Body
    holds, the referentienummer, the raw XML and the HTTP status it got."""

    path: str
    soap_action: str
    content_type: str
    authorization: str
    operation: str | None
    referentienummer: str | None
    xml: bytes
    status: int


@dataclass
class _Script:
    operation: str
    kind: str
    code: str
    plek: str
    after_handling: bool
    delay_s: float
    retry_after: str


def _text(element: etree._Element | None, path: str) -> str | None:
    found = None if element is None else element.find(path, {"Z": ZKN, "S": STUF, "B": BG})
    return None if found is None else (found.text or "")


def _systeem(stuurgegevens: etree._Element, name: str) -> dict[str, str]:
    element = stuurgegevens.find(f"{{{STUF}}}{name}")
    if element is None:
        return {}
    return {_local(child): child.text or "" for child in element if isinstance(child.tag, str)}


def _sub(parent: etree._Element, namespace: str, name: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, f"{{{namespace}}}{name}")
    element.text = text
    return element


class _FaultError(Exception):
    def __init__(self, code: str, plek: str, omschrijving: str) -> None:
        super().__init__(omschrijving)
        self.code, self.plek, self.omschrijving = code, plek, omschrijving


@dataclass
class FakeStufZds:
    port: int
    zaaktypen: set[str] = field(default_factory=lambda: {ZAAKTYPE})
    basic: tuple[str, str] | None = None  # required Basic credentials, when set
    zaken: list[dict[str, Any]] = field(default_factory=list)
    documenten: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    scripts: list[_Script] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # identificaties a Du02 handed out
    _references: set[tuple[str, str]] = field(default_factory=set)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/zds"

    def service(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def script(
        self,
        operation: Operation,
        kind: Literal["server", "client", "http500", "busy", "hang"],
        *,
        code: str | None = None,
        after_handling: bool = False,
        times: int = 1,
        delay_s: float = 0.0,
        retry_after: str = "7",
    ) -> None:
        """Answer the next ``times`` requests of ``operation`` with a StUF fault (``server``:
        StUF058 plek server, ``client``: StUF052 plek client, or ``code``), plain HTTP 500,
        503 with Retry-After (``busy``) or, after ``delay_s``, the real answer (``hang``)."""
        default = {"server": "StUF058", "client": "StUF052"}.get(kind, "")
        plek = "client" if kind == "client" else "server"
        with self._lock:
            for _ in range(times):
                self.scripts.append(
                    _Script(
                        operation,
                        kind,
                        code or default,
                        plek,
                        after_handling,
                        delay_s,
                        retry_after,
                    )
                )

    def received(self, operation: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if operation is None or r.operation == operation]

    def conformance(self) -> StufZdsConformanceFake:
        return StufZdsConformanceFake(self)

    # --- answers -------------------------------------------------------------------------

    @staticmethod
    def _envelope(message: etree._Element) -> bytes:
        envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11, "StUF": STUF})
        etree.SubElement(envelope, f"{{{SOAP11}}}Body").append(message)
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))

    @staticmethod
    def _stuurgegevens(parent: etree._Element, berichtcode: str, asked: etree._Element) -> None:
        stuur = _sub(parent, ZKN if parent.tag.startswith(f"{{{ZKN}}}") else STUF, "stuurgegevens")
        _sub(stuur, STUF, "berichtcode", berichtcode)
        for ours, theirs in (("zender", "ontvanger"), ("ontvanger", "zender")):
            systeem = _sub(stuur, STUF, ours)
            for name, value in (ONTVANGER if ours == "zender" else _systeem(asked, theirs)).items():
                _sub(systeem, STUF, name, value)
        _sub(stuur, STUF, "referentienummer", str(uuid.uuid4()))
        _sub(stuur, STUF, "tijdstipBericht", "20261129101503000")
        _sub(stuur, STUF, "crossRefnummer", _text(asked, "S:referentienummer"))

    def _du02(self, operation: str, asked: etree._Element, identificatie: str) -> bytes:
        kind = "Zaak" if "Zaak" in operation else "Document"
        message = etree.Element(f"{{{ZKN}}}genereer{kind}Identificatie_Du02", nsmap={"ZKN": ZKN})
        self._stuurgegevens(message, "Du02", asked)
        _sub(message[0], STUF, "functie", f"genereer{kind}identificatie")
        entity = _sub(message, ZKN, kind.lower())
        entity.set(f"{{{STUF}}}entiteittype", "ZAK" if kind == "Zaak" else "EDC")
        entity.set(f"{{{STUF}}}functie", "entiteit")
        _sub(entity, ZKN, "identificatie", identificatie)
        return self._envelope(message)

    def _bv03(self, asked: etree._Element) -> bytes:
        message = etree.Element(f"{{{STUF}}}Bv03Bericht")
        self._stuurgegevens(message, "Bv03", asked)
        return self._envelope(message)

    def _fault(
        self, berichtcode: str, code: str, plek: str, omschrijving: str, asked: Any
    ) -> Response:
        fault = etree.Element(f"{{{SOAP11}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"soap:{plek.capitalize()}"
        etree.SubElement(fault, "faultstring").text = omschrijving
        bericht = etree.SubElement(
            etree.SubElement(fault, "detail"), f"{{{STUF}}}{berichtcode}Bericht"
        )
        if berichtcode == "Fo02" or asked is None:  # Fo02: only the berichtcode (stuf0301.xsd)
            _sub(_sub(bericht, STUF, "stuurgegevens"), STUF, "berichtcode", berichtcode)
        else:
            self._stuurgegevens(bericht, berichtcode, asked)
        body = _sub(bericht, STUF, "body")
        for name, value in (("code", code), ("plek", plek), ("omschrijving", omschrijving)):
            _sub(body, STUF, name, value)
        _sub(body, STUF, "details", "BSN 999993653 en meer uit het bericht")  # never to be logged
        return Response(self._envelope(fault), 500, media_type="text/xml; charset=utf-8")

    @staticmethod
    def _soap_fault(faultcode: str, faultstring: str) -> Response:
        fault = etree.Element(f"{{{SOAP11}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"soap:{faultcode}"
        etree.SubElement(fault, "faultstring").text = faultstring
        return Response(FakeStufZds._envelope(fault), 500, media_type="text/xml; charset=utf-8")

    # --- the server side ------------------------------------------------------------------

    def _next_script(self, operation: str) -> _Script | None:
        with self._lock:
            for index, script in enumerate(self.scripts):
                if script.operation == operation:
                    return self.scripts.pop(index)
        return None

    def _scripted(self, script: _Script, operation: str, stuur: Any) -> Response:
        if script.kind == "http500":
            return Response("<html>Internal Server Error</html>", 500, media_type="text/html")
        if script.kind == "busy":
            headers = {"Retry-After": script.retry_after}
            return Response("busy", 503, headers=headers, media_type="text/plain")
        berichtcode = "Fo02" if operation.endswith("_Di02") else "Fo03"
        omschrijving = "Proces voor afhandelen bericht geeft fout"
        return self._fault(berichtcode, script.code, script.plek, omschrijving, stuur)

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        path = request.path_params["service"]
        action = request.headers.get("soapaction", "").strip('"')
        content_type = request.headers.get("content-type", "")
        operation, reference, stuur, answer = None, None, None, None  # stuur: the message
        if self.basic is not None:
            user, password = self.basic
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {token}":
                answer = Response("Unauthorized", 401, headers={"WWW-Authenticate": "Basic"})
        if answer is None and not content_type.replace(" ", "").lower().startswith(
            "text/xml;charset=utf-8"
        ):
            answer = Response("SOAP 1.1 wants text/xml; charset=utf-8", 415)
        if answer is None:
            try:
                operation, reference, stuur, answer = self._soap(raw, path, action)
            except etree.XMLSyntaxError:
                answer = self._soap_fault("Client", "not well-formed XML")
        if answer is None and operation is not None and stuur is not None:
            script = self._next_script(operation)
            if script is not None and script.kind == "hang":
                await asyncio.sleep(script.delay_s)
                script = None
            asked = stuur.find(f"{{{ZKN}}}stuurgegevens")
            if script is not None and not script.after_handling:
                answer = self._scripted(script, operation, asked)
            else:
                answer = self._operation(operation, stuur)
                if script is not None:
                    answer = self._scripted(script, operation, asked)
                    if script.delay_s:
                        await asyncio.sleep(script.delay_s)
        assert answer is not None
        with self._lock:
            self.requests.append(
                Received(
                    path,
                    action,
                    content_type,
                    request.headers.get("authorization", ""),
                    operation,
                    reference,
                    raw,
                    answer.status_code,
                )
            )
        return answer

    def _soap(
        self, raw: bytes, path: str, action: str
    ) -> tuple[Operation | None, str | None, Any, Response | None]:
        """The operation, referentienummer and message of ``raw``, and the refusal when the
        envelope, SOAPAction, service, element order or stuurgegevens are wrong."""
        envelope = etree.fromstring(raw, _PARSER)
        if envelope.tag != f"{{{SOAP11}}}Envelope":
            return None, None, None, self._soap_fault("VersionMismatch", "not a SOAP 1.1 envelope")
        body = envelope.find(f"{{{SOAP11}}}Body")
        messages = [] if body is None else [c for c in body if isinstance(c.tag, str)]
        if len(messages) != 1 or etree.QName(messages[0]).namespace != ZKN:
            return None, None, None, self._soap_fault("Client", "one ZKN message in the Body")
        message = messages[0]
        known = _OPERATIONS.get(_local(message))
        if known is None:
            return None, None, None, self._soap_fault("Client", "operation not offered")
        operation, service = known
        if action != f"{ZKN}/{operation}":
            return operation, None, None, self._soap_fault("Client", "SOAPAction mismatch")
        if path not in ("zds", service):
            return operation, None, None, self._soap_fault("Client", f"not a {path} operation")
        stuur = message.find(f"{{{ZKN}}}stuurgegevens")
        reference = _text(stuur, "S:referentienummer")
        berichtcode = "Fo02" if operation.endswith("_Di02") else "Fo03"
        try:
            self._check(message, stuur, reference, operation)
        except _FaultError as fault:
            answer = self._fault(berichtcode, fault.code, fault.plek, fault.omschrijving, stuur)
            return operation, reference, message, answer
        return operation, reference, message, None

    def _check(
        self, message: etree._Element, stuur: Any, reference: str | None, operation: str
    ) -> None:
        if order_problems(message):
            raise _FaultError("StUF055", "client", "Berichtbody is niet conform schema")
        expected = "Di02" if operation.endswith("_Di02") else "Lk01"
        if _text(stuur, "S:berichtcode") != expected:
            raise _FaultError("StUF022", "client", "Berichtcode onbekend")
        if _systeem(stuur, "ontvanger") != ONTVANGER:
            raise _FaultError("StUF010", "client", "Ontvanger onbekend")
        zender = _systeem(stuur, "zender")
        if {k: zender.get(k) for k in ZENDER} != ZENDER:
            raise _FaultError("StUF013", "client", "Zender onbekend")
        key = (zender.get("applicatie", ""), reference or "")
        with self._lock:
            if not reference or key in self._references:
                raise _FaultError("StUF016", "client", "Referentienummer niet uniek")
            self._references.add(key)

    def _operation(self, operation: str, message: etree._Element) -> Response:
        """The answer of the zaaksysteem to a message that passed the checks."""
        stuur = message.find(f"{{{ZKN}}}stuurgegevens")
        assert stuur is not None
        try:
            if operation.startswith("genereer"):
                prefix = "0363ZK" if "Zaak" in operation else "0363DOC"
                with self._lock:
                    made = f"{prefix}{next(self._numbers):06d}"
                    self.issued.append(made)
                return Response(
                    self._du02(operation, stuur, made), media_type="text/xml; charset=utf-8"
                )
            obj = message.find(f"{{{ZKN}}}object")
            if operation == "creeerZaak_Lk01":
                self._store_zaak(obj, stuur)
            else:
                self._store_document(obj)
        except _FaultError as fault:
            return self._fault("Fo03", fault.code, fault.plek, fault.omschrijving, stuur)
        return Response(self._bv03(stuur), media_type="text/xml; charset=utf-8")

    def _store_zaak(self, obj: Any, stuur: Any) -> None:
        ident = _text(obj, "Z:identificatie") or ""
        code = _text(obj, "Z:isVan/Z:gerelateerde/Z:code")
        if not 5 <= len(ident) <= 40:
            raise _FaultError("StUF055", "client", "Zaakidentificatie ongeldig")
        if code not in self.zaaktypen:
            raise _FaultError("ZKN0002", "client", "Zaaktype onbekend")
        betrokkene = obj.find("Z:heeftAlsInitiator/Z:gerelateerde/*", {"Z": ZKN})
        initiator = None
        if betrokkene is not None:
            initiator = {
                "soort": _local(betrokkene),
                "bsn": _text(betrokkene, "B:inp.bsn"),
                "nnpId": _text(betrokkene, "B:inn.nnpId"),
                "extra": {
                    e.get("naam"): e.text
                    for e in obj.iterfind(
                        "Z:heeftAlsInitiator/S:extraElementen/S:extraElement",
                        {"Z": ZKN, "S": STUF},
                    )
                },
            }
        zaak = {
            "identificatie": ident,
            "omschrijving": _text(obj, "Z:omschrijving"),
            "kenmerk": _text(obj, "Z:kenmerk/Z:kenmerk"),
            "startdatum": _text(obj, "Z:startdatum"),
            "betalingsIndicatie": _text(obj, "Z:betalingsIndicatie"),
            "zaaktype": code,
            "initiator": initiator,
            "zender": _systeem(stuur, "zender"),
            "ontvanger": _systeem(stuur, "ontvanger"),
        }
        with self._lock:
            if any(z["identificatie"] == ident for z in self.zaken):
                raise _FaultError(EXISTS_CODE, "client", "Zaak bestaat al")
            self.zaken.append(zaak)

    def _store_document(self, obj: Any) -> None:
        ident = _text(obj, "Z:identificatie") or ""
        zaak = _text(obj, "Z:isRelevantVoor/Z:gerelateerde/Z:identificatie")
        inhoud = obj.find(f"{{{ZKN}}}inhoud")
        try:
            content = (
                base64.b64decode(inhoud.text or "", validate=True) if inhoud is not None else b""
            )
        except binascii.Error:
            raise _FaultError("StUF055", "client", "inhoud is geen base64") from None
        document = {
            "identificatie": ident,
            "zaak": zaak,
            "dct.omschrijving": _text(obj, "Z:dct.omschrijving"),
            "titel": _text(obj, "Z:titel"),
            "formaat": _text(obj, "Z:formaat"),
            "taal": _text(obj, "Z:taal"),
            "vertrouwelijkAanduiding": _text(obj, "Z:vertrouwelijkAanduiding"),
            "bestandsnaam": None if inhoud is None else inhoud.get(f"{{{STUF}}}bestandsnaam"),
            "inhoud": content,
        }
        with self._lock:
            if not any(z["identificatie"] == zaak for z in self.zaken):
                raise _FaultError("StUF064", "server", "Object niet gevonden")
            if any(d["identificatie"] == ident for d in self.documenten):
                raise _FaultError(EXISTS_CODE, "client", "Document bestaat al")
            self.documenten.append(document)


@dataclass(frozen=True)
class StufZdsConformanceFake:
    """The fake as the shared conformance suite drives it (connectors.sdk.conformance), with
    identificaties from the step keys: the suite replays without progress, which only those
    survive (connectors/stuf_zds/README.md, "Redelivery")."""

    fake: FakeStufZds

    def settings(self) -> dict[str, Any]:
        return {
            "endpoints": {"url": self.fake.url},
            "zender": ZENDER,
            "ontvanger": ONTVANGER,
            "tls": None,
            "zaaktype_code": ZAAKTYPE,
            "identificaties": "hub",
            "already_exists_codes": [EXISTS_CODE],
        }

    def fail_next(self, kind: str) -> None:
        self.fake.script("creeerZaak_Lk01", "server" if kind == "retryable" else "client")

    def effects(self) -> int:
        return len(self.fake.zaken)


@contextmanager
def running_stuf_zds(port: int = 0) -> Iterator[FakeStufZds]:
    """A FakeStufZds on a free loopback port; stopped on exit."""
    fakes: list[FakeStufZds] = []

    def app_for(port: int) -> Starlette:
        fakes.append(FakeStufZds(port=port))
        return Starlette(routes=[Route("/{service:str}", fakes[0]._handle, methods=["POST"])])

    with serving(app_for, "fake-stuf-zds", port):
        yield fakes[0]
