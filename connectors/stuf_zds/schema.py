"""The element names and order of the StUF-ZDS 1.2 messages this sink sends, and a check of a
built message against them. Pure; no I/O.

Written from the schemas ZDS 1.2 builds on (StUF-ZKN 3.10 patch 28, StUF 3.01):

- ``genereerZaakIdentificatie_Di02`` / ``genereerDocumentIdentificatie_Di02``:
  zkn0310/zs-dms/zkn0310_msg_zs-dms.xsd, stuurgegevens ``Di02-Stuurgegevens-gzi`` / ``-gdi``
  (zkn0310_msg_stuf_zs-dms.xsd).
- ``creeerZaak_Lk01`` (``zakLk01``) and ``voegZaakdocumentToe_Lk01`` (``edcLk01``):
  zkn0310/mutatie/zkn0310_msg_mutatie.xsd ``ZAK-Lk01`` / ``EDC-Lk01``; stuurgegevens
  ``ZAK-StuurgegevensLk01`` / ``EDC-StuurgegevensLk01`` (zkn0310_msg_stuf_mutatie.xsd);
  ``ParametersLk01`` (stuf0301.xsd); objects ``ZAK-kennisgeving``, ``EDC-kennisgeving``,
  ``ZAKZKT-kennisgeving``, ``ZKT-kerngegevensKennisgeving``, ``ZAKBTRINI-kennisgeving``,
  ``BTR-kerngegevensKennisgeving`` (a choice), ``EDCZAK-kennisgeving``,
  ``ZAK-kerngegevensKennisgeving`` (zkn0310_ent_mutatie.xsd) and the StUF-BG subjects
  ``NPS-``, ``NNP-``, ``VES-zkn-kerngegevensKennisgeving`` (zkn0310_bg0310_ent.xsd).
- ``Systeem`` (zender, ontvanger), ``TijdvakGeldigheid``, ``ExtraElementen``: stuf0301.xsd.

Each complex type lists its children in schema order, with the required ones marked; a type
whose content is an ``xsd:choice`` allows one child. Only the elements this sink can send are
typed further down; the rest are listed by name so that their order is still known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["BG", "SOAP", "STUF", "TYPES", "XMIME", "XSI", "ZKN", "order_errors"]

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"  # SOAP 1.1
STUF = "http://www.egem.nl/StUF/StUF0301"
ZKN = "http://www.egem.nl/StUF/sector/zkn/0310"
BG = "http://www.egem.nl/StUF/sector/bg/0310"
XMIME = "http://www.w3.org/2005/05/xmlmime"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_PREFIX = {"soap": SOAP, "StUF": STUF, "ZKN": ZKN, "BG": BG}


@dataclass(frozen=True)
class Child:
    """One element of a type's sequence: its name (``ZKN:identificatie``), the complex type of
    its content (None: text), whether the schema requires it and whether it may repeat."""

    name: str
    type: str | None = None
    required: bool = False
    many: bool = False

    @property
    def tag(self) -> str:
        prefix, local = self.name.split(":")
        return f"{{{_PREFIX[prefix]}}}{local}"


def _seq(*spec: str) -> tuple[Child, ...]:
    """Children from ``"ZKN:name[=Type][!][*]"``: ``!`` required, ``*`` repeats."""
    children = []
    for item in spec:
        required, many = "!" in item, "*" in item
        name, _, type_name = item.rstrip("!*").replace("!", "").partition("=")
        children.append(Child(name, type_name or None, required, many))
    return tuple(children)


_SYSTEEM = _seq("StUF:organisatie", "StUF:applicatie!", "StUF:administratie", "StUF:gebruiker")
_DI02 = _seq(
    "StUF:berichtcode!",
    "StUF:zender=Systeem",
    "StUF:ontvanger=Systeem",
    "StUF:referentienummer",
    "StUF:tijdstipBericht",
    "StUF:functie!",
)
_LK01 = _seq(
    "StUF:berichtcode!",
    "StUF:zender=Systeem!",
    "StUF:ontvanger=Systeem!",
    "StUF:referentienummer!",
    "StUF:tijdstipBericht!",
    "StUF:entiteittype!",
)
_ZAK = _seq(  # ZAK-kennisgeving
    "ZKN:identificatie",
    "ZKN:omschrijving",
    "ZKN:toelichting",
    "ZKN:kenmerk=KenmerkGrp*",
    "ZKN:anderZaakObject*",
    "ZKN:resultaat",
    "ZKN:startdatum",
    "ZKN:registratiedatum",
    "ZKN:publicatiedatum",
    "ZKN:einddatumGepland",
    "ZKN:uiterlijkeEinddatum",
    "ZKN:einddatum",
    "ZKN:opschorting",
    "ZKN:verlenging",
    "ZKN:betalingsIndicatie",
    "ZKN:laatsteBetaaldatum",
    "ZKN:archiefnominatie",
    "ZKN:datumVernietigingDossier",
    "ZKN:zaakniveau",
    "ZKN:deelzakenIndicatie",
    "StUF:tijdvakGeldigheid=TijdvakGeldigheid",
    "StUF:tijdstipRegistratie",
    "StUF:extraElementen=ExtraElementen",
    "ZKN:isVan=ZAKZKT",
    "ZKN:heeftBetrekkingOp*",
    "ZKN:heeftAlsBelanghebbende*",
    "ZKN:heeftAlsGemachtigde*",
    "ZKN:heeftAlsInitiator=ZAKBTRINI",
    "ZKN:heeftAlsUitvoerende*",
    "ZKN:heeftAlsVerantwoordelijke*",
    "ZKN:heeftAlsOverigBetrokkene*",
    "ZKN:heeftAlsDeelzaak*",
    "ZKN:heeftBetrekkingOpAndere*",
    "ZKN:heeft*",
    "ZKN:leidtTot*",
)
_EDC = _seq(  # EDC-kennisgeving
    "ZKN:identificatie",
    "ZKN:dct.omschrijving",
    "ZKN:creatiedatum",
    "ZKN:ontvangstdatum",
    "ZKN:titel",
    "ZKN:beschrijving",
    "ZKN:formaat",
    "ZKN:taal",
    "ZKN:versie",
    "ZKN:status",
    "ZKN:verzenddatum",
    "ZKN:vertrouwelijkAanduiding",
    "ZKN:auteur",
    "ZKN:link",
    "ZKN:inhoud",
    "StUF:tijdvakGeldigheid=TijdvakGeldigheid",
    "StUF:tijdstipRegistratie",
    "StUF:extraElementen=ExtraElementen",
    "ZKN:isRelevantVoor=EDCZAK*",
)

TYPES: dict[str, tuple[Child, ...]] = {
    "Envelope": _seq("soap:Header", "soap:Body!"),  # the Body's message: _MESSAGES
    "genereerZaakIdentificatie_Di02": _seq("ZKN:stuurgegevens=StuurgegevensDi02!"),
    "genereerDocumentIdentificatie_Di02": _seq("ZKN:stuurgegevens=StuurgegevensDi02!"),
    "zakLk01": _seq(
        "ZKN:stuurgegevens=StuurgegevensLk01!",
        "ZKN:parameters=ParametersLk01!",
        "ZKN:object=ZAK!*",
    ),
    "edcLk01": _seq(
        "ZKN:stuurgegevens=StuurgegevensLk01!",
        "ZKN:parameters=ParametersLk01!",
        "ZKN:object=EDC!*",
    ),
    "StuurgegevensDi02": _DI02,
    "StuurgegevensLk01": _LK01,
    "Systeem": _SYSTEEM,
    "ParametersLk01": _seq("StUF:mutatiesoort!", "StUF:indicatorOvername!"),
    "ZAK": _ZAK,
    "KenmerkGrp": _seq("ZKN:kenmerk!", "ZKN:bron!"),
    "TijdvakGeldigheid": _seq("StUF:beginGeldigheid!", "StUF:eindGeldigheid!"),
    "ExtraElementen": _seq("StUF:extraElement!*"),
    "ZAKZKT": _seq("ZKN:gerelateerde=ZKT!", "StUF:extraElementen=ExtraElementen"),
    "ZKT": _seq("ZKN:omschrijving", "ZKN:code", "ZKN:ingangsdatumObject"),
    "ZAKBTRINI": _seq(
        "ZKN:gerelateerde=BTR!",
        "ZKN:code",
        "ZKN:omschrijving",
        "ZKN:toelichting",
        "ZKN:afwijkendCorrespondentieAdres",
        "ZKN:afwijkendBuitenlandsCorrespondentieAdres",
        "StUF:tijdvakRelatie",
        "StUF:tijdvakGeldigheid=TijdvakGeldigheid",
        "StUF:tijdstipRegistratie",
        "StUF:extraElementen=ExtraElementen",
        "ZKN:heeftAlsAanspreekpunt",
    ),
    "BTR": _seq(  # a choice: one of these
        "ZKN:medewerker",
        "ZKN:organisatorischeEenheid",
        "ZKN:natuurlijkPersoon=NPS",
        "ZKN:nietNatuurlijkPersoon=NNP",
        "ZKN:vestiging=VES",
    ),
    "NPS": _seq(
        "BG:inp.bsn",
        "BG:authentiek",
        "BG:anp.identificatie",
        "BG:geslachtsnaam",
        "BG:voorvoegselGeslachtsnaam",
        "BG:voorletters",
        "BG:voornamen",
        "BG:geslachtsaanduiding",
        "BG:geboortedatum",
        "BG:verblijfsadres",
        "BG:sub.verblijfBuitenland",
    ),
    "NNP": _seq(
        "BG:inn.nnpId",
        "BG:authentiek",
        "BG:ann.identificatie",
        "BG:statutaireNaam",
        "BG:inn.rechtsvorm",
        "BG:bezoekadres",
        "BG:sub.verblijfBuitenland",
    ),
    "VES": _seq(
        "BG:vestigingsNummer",
        "BG:authentiek",
        "BG:handelsnaam",
        "BG:verblijfsadres",
        "BG:sub.verblijfBuitenland",
    ),
    "EDC": _EDC,
    "EDCZAK": _seq(
        "ZKN:gerelateerde=ZAKkern!",
        "ZKN:titel",
        "ZKN:beschrijving",
        "ZKN:registratiedatum",
        "ZKN:stt.volgnummer",
        "ZKN:stt.omschrijving",
        "ZKN:sta.datumStatusGezet",
        "StUF:tijdvakRelatie",
        "StUF:tijdvakGeldigheid=TijdvakGeldigheid",
        "StUF:tijdstipRegistratie",
        "StUF:extraElementen=ExtraElementen",
    ),
    "ZAKkern": _seq("ZKN:identificatie", "ZKN:omschrijving", "ZKN:isVan"),
}
CHOICES = frozenset({"BTR"})
# The message an operation sends: the Body's one child.
_MESSAGES = {
    f"{{{ZKN}}}genereerZaakIdentificatie_Di02": "genereerZaakIdentificatie_Di02",
    f"{{{ZKN}}}genereerDocumentIdentificatie_Di02": "genereerDocumentIdentificatie_Di02",
    f"{{{ZKN}}}zakLk01": "zakLk01",
    f"{{{ZKN}}}edcLk01": "edcLk01",
}


def _name(tag: str) -> str:
    namespace, _, local = tag[1:].partition("}")
    prefix = next((p for p, ns in _PREFIX.items() if ns == namespace), namespace)
    return f"{prefix}:{local}"


def _errors(element: etree._Element, type_name: str, path: str) -> Iterator[str]:
    sequence = TYPES[type_name]
    tags = [child.tag for child in sequence]
    position = 0
    seen: list[str] = []
    for child in element:
        if not isinstance(child.tag, str):  # a comment or processing instruction
            continue
        where = f"{path}/{_name(child.tag)}"
        if child.tag not in tags:
            yield f"{where}: not an element of {type_name}"
            continue
        index = tags.index(child.tag)
        if index < position or (child.tag in seen and not sequence[index].many):
            after = _name(seen[-1])
            yield f"{where}: out of order (after {after}) or repeated in {type_name}"
            continue
        position = index
        seen.append(child.tag)
        if sequence[index].type is not None:
            yield from _errors(child, sequence[index].type or "", where)
    if type_name in CHOICES and len(seen) > 1:
        yield f"{path}: {type_name} is a choice of one element, not {len(seen)}"
    for expected in sequence:
        if expected.required and expected.tag not in seen:
            yield f"{path}: {type_name} lacks the required {expected.name}"


def order_errors(envelope: etree._Element) -> list[str]:
    """What in ``envelope`` (a SOAP 1.1 Envelope with one message in its Body) breaks the
    element names, order and required elements the schemas define; empty when nothing does.
    Each error names the element by its path (``soap:Body/ZKN:zakLk01/ZKN:object/...``)."""
    if envelope.tag != f"{{{SOAP}}}Envelope":
        return [f"{_name(envelope.tag)}: not a SOAP 1.1 Envelope"]
    errors = list(_errors(envelope, "Envelope", "soap:Envelope"))
    body = envelope.find(f"{{{SOAP}}}Body")
    messages = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if len(messages) != 1:
        return [*errors, f"soap:Body holds {len(messages)} messages, not 1"]
    message = messages[0]
    type_name = _MESSAGES.get(message.tag)
    if type_name is None:
        return [*errors, f"soap:Body/{_name(message.tag)}: not a message this sink sends"]
    return errors + list(_errors(message, type_name, f"soap:Body/{_name(message.tag)}"))
