"""The StUF-ZDS 1.2 messages this sink sends, built with lxml in the element order of
connectors/stuf_zds/schema.py and checked against it before they go out. Pure; no I/O.

- ``genereerZaakIdentificatie_Di02`` / ``genereerDocumentIdentificatie_Di02`` (the ZS-DMS
  catalogue's #6 and #13 in zkn0310_msg_zs-dms.xsd; VrijeBerichten): stuurgegevens with
  ``functie``, nothing else.
- ``creeerZaak_Lk01`` (ZDS 1.2 §4.1.4; OntvangAsynchroon): a ``zakLk01`` kennisgeving,
  mutatiesoort T, with the zaak, its zaaktype (``isVan``) and its initiator
  (``heeftAlsInitiator``).
- ``voegZaakdocumentToe_Lk01`` (OntvangAsynchroon): an ``edcLk01`` kennisgeving,
  mutatiesoort T, with the document, its content inline (base64) and its zaak
  (``isRelevantVoor``).

Texts are cut to the schema's maximum lengths and stripped of characters XML 1.0 cannot hold.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from lxml import etree

from connectors.stuf_zds.schema import BG, SOAP, STUF, XMIME, ZKN, order_errors

if TYPE_CHECKING:
    from datetime import date, datetime

    from connectors.stuf_zds.config import Party

__all__ = [
    "SOAP_ACTIONS",
    "Document",
    "Initiator",
    "MessageError",
    "Stuurgegevens",
    "Zaak",
    "creeer_zaak",
    "genereer_identificatie",
    "voeg_zaakdocument_toe",
]

Operation = Literal[
    "genereerZaakIdentificatie_Di02",
    "genereerDocumentIdentificatie_Di02",
    "creeerZaak_Lk01",
    "voegZaakdocumentToe_Lk01",
]
# The WSDLs' soapAction of each operation (zkn0310_vrijeBerichten_zs-dms.wsdl,
# zkn0310_ontvangAsynchroon_mutatie_zs-dms.wsdl).
SOAP_ACTIONS: dict[Operation, str] = {
    operation: f"{ZKN}/{operation}"
    for operation in (
        "genereerZaakIdentificatie_Di02",
        "genereerDocumentIdentificatie_Di02",
        "creeerZaak_Lk01",
        "voegZaakdocumentToe_Lk01",
    )
}
_NSMAP = {"soap": SOAP, "StUF": STUF, "ZKN": ZKN, "BG": BG, "xmime": XMIME}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class MessageError(ValueError):
    """A built message breaks the schema's element names or order: a defect of this sink."""


@dataclass(frozen=True)
class Stuurgegevens:
    """What every message carries: who sends it to whom, its unique referentienummer and when
    (``tijdstip``, aware; written as StUF Tijdstip ``yyyymmddhhmmssmmm``)."""

    zender: Party
    ontvanger: Party
    referentienummer: str
    tijdstip: datetime


@dataclass(frozen=True)
class Initiator:
    """The zaak's initiator: a citizen by BSN, an organisation by RSIN, a company by KvK
    number."""

    kind: Literal["bsn", "rsin", "kvk"]
    number: str


@dataclass(frozen=True)
class Zaak:
    identificatie: str
    omschrijving: str
    kenmerk: str
    startdatum: date
    registratiedatum: date
    betalingsindicatie: str | None
    zaaktype_code: str
    zaaktype_omschrijving: str | None
    initiator: Initiator | None


@dataclass(frozen=True)
class Document:
    identificatie: str
    documenttype: str
    datum: date
    titel: str
    bestandsnaam: str
    formaat: str
    taal: str
    vertrouwelijkheid: str | None
    auteur: str
    inhoud: bytes
    zaak: str


def _text(value: str, limit: int) -> str:
    return _NOT_XML.sub("", value)[:limit]


def _datum(day: date) -> str:
    return day.strftime("%Y%m%d")


def _tijdstip(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _sub(
    parent: etree._Element, name: str, text: str | None = None, **attrib: str
) -> etree._Element:
    prefix, local = name.split(":")
    element = etree.SubElement(parent, f"{{{_NSMAP[prefix]}}}{local}")
    for key, value in attrib.items():  # StUF_functie is StUF:functie, naam is naam
        prefix, qualified, local = key.partition("_")
        element.set(f"{{{_NSMAP[prefix]}}}{local}" if qualified else key, value)
    if text is not None:
        element.text = text
    return element


def _entity(parent: etree._Element, name: str, entiteittype: str, soort: str) -> etree._Element:
    return _sub(parent, name, StUF_entiteittype=entiteittype, StUF_verwerkingssoort=soort)


def _systeem(parent: etree._Element, name: str, party: Party) -> None:
    systeem = _sub(parent, name)
    for field in ("organisatie", "applicatie", "administratie", "gebruiker"):
        value = getattr(party, field)
        if value is not None:
            _sub(systeem, f"StUF:{field}", value)


def _stuurgegevens(
    message: etree._Element, berichtcode: str, stuur: Stuurgegevens, last: tuple[str, str]
) -> None:
    element = _sub(message, "ZKN:stuurgegevens")
    _sub(element, "StUF:berichtcode", berichtcode)
    _systeem(element, "StUF:zender", stuur.zender)
    _systeem(element, "StUF:ontvanger", stuur.ontvanger)
    _sub(element, "StUF:referentienummer", stuur.referentienummer)
    _sub(element, "StUF:tijdstipBericht", _tijdstip(stuur.tijdstip))
    _sub(element, last[0], last[1])  # functie (Di02) or entiteittype (Lk01)


def _envelope(message_name: str) -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap=_NSMAP)
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    return envelope, _sub(body, message_name)


def _checked(envelope: etree._Element) -> bytes:
    errors = order_errors(envelope)
    if errors:
        raise MessageError("; ".join(errors))
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def genereer_identificatie(kind: Literal["zaak", "document"], stuur: Stuurgegevens) -> bytes:
    """``genereerZaakIdentificatie_Di02`` (``kind`` zaak) or
    ``genereerDocumentIdentificatie_Di02`` (document), as a SOAP 1.1 envelope."""
    name = "Zaak" if kind == "zaak" else "Document"
    envelope, message = _envelope(f"ZKN:genereer{name}Identificatie_Di02")
    _stuurgegevens(message, "Di02", stuur, ("StUF:functie", f"genereer{name}identificatie"))
    return _checked(envelope)


def _parameters(message: etree._Element) -> None:
    parameters = _sub(message, "ZKN:parameters")
    _sub(parameters, "StUF:mutatiesoort", "T")
    _sub(parameters, "StUF:indicatorOvername", "V")


def _initiator(zaak_element: etree._Element, initiator: Initiator, tijdstip: str) -> None:
    relation = _entity(zaak_element, "ZKN:heeftAlsInitiator", "ZAKBTRINI", "T")
    gerelateerde = _sub(relation, "ZKN:gerelateerde")
    if initiator.kind == "bsn":
        person = _entity(gerelateerde, "ZKN:natuurlijkPersoon", "NPS", "T")
        _sub(person, "BG:inp.bsn", initiator.number)
        _sub(person, "BG:authentiek", "J", StUF_metagegeven="true")
    elif initiator.kind == "rsin":
        organisation = _entity(gerelateerde, "ZKN:nietNatuurlijkPersoon", "NNP", "T")
        _sub(organisation, "BG:inn.nnpId", initiator.number)
        _sub(organisation, "BG:authentiek", "J", StUF_metagegeven="true")
    else:  # StUF-BG 3.10's NNP has no KvK number: it travels as an extra element of the role
        _entity(gerelateerde, "ZKN:nietNatuurlijkPersoon", "NNP", "T")
    _sub(relation, "StUF:tijdstipRegistratie", tijdstip)
    if initiator.kind == "kvk":
        extra = _sub(relation, "StUF:extraElementen")
        _sub(extra, "StUF:extraElement", initiator.number, naam="kvkNummer")


def creeer_zaak(stuur: Stuurgegevens, zaak: Zaak) -> bytes:
    """``creeerZaak_Lk01``: a ``zakLk01`` adding ``zaak`` (verwerkingssoort T) of zaaktype
    ``zaaktype_code`` (verwerkingssoort I: the zaaksysteem knows it), with its initiator."""
    envelope, message = _envelope("ZKN:zakLk01")
    _stuurgegevens(message, "Lk01", stuur, ("StUF:entiteittype", "ZAK"))
    _parameters(message)
    tijdstip = _tijdstip(stuur.tijdstip)
    obj = _entity(message, "ZKN:object", "ZAK", "T")
    _sub(obj, "ZKN:identificatie", zaak.identificatie)
    _sub(obj, "ZKN:omschrijving", _text(zaak.omschrijving, 80))
    kenmerk = _sub(obj, "ZKN:kenmerk")
    _sub(kenmerk, "ZKN:kenmerk", _text(zaak.kenmerk, 40))
    _sub(kenmerk, "ZKN:bron", "Knooppunt")
    _sub(obj, "ZKN:startdatum", _datum(zaak.startdatum))
    _sub(obj, "ZKN:registratiedatum", _datum(zaak.registratiedatum))
    if zaak.betalingsindicatie is not None:
        _sub(obj, "ZKN:betalingsIndicatie", zaak.betalingsindicatie)
    _sub(obj, "ZKN:zaakniveau", "1")
    _sub(obj, "ZKN:deelzakenIndicatie", "N")
    _sub(obj, "StUF:tijdstipRegistratie", tijdstip)
    is_van = _entity(obj, "ZKN:isVan", "ZAKZKT", "T")
    zaaktype = _entity(is_van, "ZKN:gerelateerde", "ZKT", "I")
    if zaak.zaaktype_omschrijving is not None:
        _sub(zaaktype, "ZKN:omschrijving", zaak.zaaktype_omschrijving)
    _sub(zaaktype, "ZKN:code", zaak.zaaktype_code)
    if zaak.initiator is not None:
        _initiator(obj, zaak.initiator, tijdstip)
    return _checked(envelope)


def voeg_zaakdocument_toe(stuur: Stuurgegevens, document: Document) -> bytes:
    """``voegZaakdocumentToe_Lk01``: an ``edcLk01`` adding ``document`` (verwerkingssoort T,
    status definitief) to the zaak ``document.zaak`` (verwerkingssoort I)."""
    envelope, message = _envelope("ZKN:edcLk01")
    _stuurgegevens(message, "Lk01", stuur, ("StUF:entiteittype", "EDC"))
    _parameters(message)
    obj = _entity(message, "ZKN:object", "EDC", "T")
    _sub(obj, "ZKN:identificatie", document.identificatie)
    _sub(obj, "ZKN:dct.omschrijving", document.documenttype)
    _sub(obj, "ZKN:creatiedatum", _datum(document.datum))
    _sub(obj, "ZKN:ontvangstdatum", _datum(document.datum))
    _sub(obj, "ZKN:titel", _text(document.titel, 200))
    _sub(obj, "ZKN:formaat", _text(document.formaat, 85))
    _sub(obj, "ZKN:taal", document.taal)
    _sub(obj, "ZKN:status", "definitief")
    if document.vertrouwelijkheid is not None:
        _sub(obj, "ZKN:vertrouwelijkAanduiding", document.vertrouwelijkheid)
    _sub(obj, "ZKN:auteur", _text(document.auteur, 200))
    _sub(
        obj,
        "ZKN:inhoud",
        base64.b64encode(document.inhoud).decode("ascii"),
        StUF_bestandsnaam=_text(document.bestandsnaam, 255),
        xmime_contentType=_text(document.formaat, 85),
    )
    _sub(obj, "StUF:tijdstipRegistratie", _tijdstip(stuur.tijdstip))
    relation = _entity(obj, "ZKN:isRelevantVoor", "EDCZAK", "T")
    zaak = _entity(relation, "ZKN:gerelateerde", "ZAK", "I")
    _sub(zaak, "ZKN:identificatie", document.zaak)
    return _checked(envelope)
