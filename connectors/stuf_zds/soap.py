"""What the zaaksysteem answers, read with lxml, and how it classifies a delivery. Pure; no I/O.

Answers (SOAP 1.1 envelopes; a SOAP 1.2 one is read too, as some zaaksystemen send it):

- ``Du02`` (``genereerZaakIdentificatie_Du02``, ``genereerDocumentIdentificatie_Du02``): the
  identificatie in ``zaak`` / ``document``.
- ``Bv03Bericht``: the kennisgeving (Lk01) is taken.
- A fault: a SOAP ``Fault`` (HTTP 500, SOAP 1.1 §6.2) whose ``detail`` holds a StUF
  ``Fo01Bericht``, ``Fo02Bericht`` or ``Fo03Bericht`` (stuf0301.xsd ``Foutbericht``: ``code``,
  ``plek``, ``omschrijving``, ``details``), or such a Fo-bericht as the Body itself.

Classification (StUF 3.01 foutcodes say where the fault lies: ``plek`` client or server):

| answer | outcome, ``code`` |
| --- | --- |
| Fo-bericht, plek ``client`` | Permanent, the foutcode |
| Fo-bericht, plek ``server`` | Retryable, the foutcode |
| SOAP fault without a Fo-bericht | by its faultcode: Client Permanent, else Retryable |
| HTTP 429, or 503 with Retry-After | Throttled, the status |
| another HTTP error, no answer | as connectors.sdk.http: 5xx/408 Retryable, 4xx Permanent |

Reasons name the operation, the berichtcode, the foutcode and plek, never the ``omschrijving``
or ``details``: they may quote what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lxml import etree

from connectors.sdk import Permanent, Retryable, Throttled
from connectors.sdk.http import failure_for_status, retry_after_seconds, status_line
from connectors.stuf_zds.schema import SOAP, STUF, ZKN

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connectors.sdk import Failure

__all__ = ["Answer", "Fault", "failure_for_fault", "failure_for_http", "read_answer"]

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
)
_FO = {f"{{{STUF}}}Fo0{n}Bericht" for n in (1, 2, 3)}


@dataclass(frozen=True)
class Answer:
    """A positive answer: ``berichtcode`` (Bv03, Du02), ``crossref`` (its crossRefnummer, the
    referentienummer of the message it answers) and, in a Du02, the ``identificatie``."""

    berichtcode: str
    crossref: str | None = None
    identificatie: str | None = None


@dataclass(frozen=True)
class Fault:
    """A refusal: a StUF Fo-bericht (``berichtcode`` Fo01/Fo02/Fo03, ``code``, ``plek``) and/or
    the SOAP ``faultcode`` around it."""

    berichtcode: str | None
    code: str | None
    plek: str | None
    faultcode: str | None = None


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _fo_bericht(bericht: etree._Element, faultcode: str | None) -> Fault:
    body = bericht.find(f"{{{STUF}}}body")

    def find(name: str) -> etree._Element | None:
        return None if body is None else body.find(f"{{{STUF}}}{name}")

    return Fault(
        berichtcode=_text(bericht.find(f"{{{STUF}}}stuurgegevens/{{{STUF}}}berichtcode"))
        or etree.QName(bericht).localname[:4],
        code=_text(find("code")),
        plek=(_text(find("plek")) or "").lower() or None,
        faultcode=faultcode,
    )


def _fault(fault: etree._Element) -> Fault:
    faultcode = _text(fault.find("faultcode"))  # SOAP 1.1: unqualified children
    if faultcode is None:  # SOAP 1.2: Code/Value
        faultcode = _text(fault.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value"))
    bericht = next((e for e in fault.iter() if e.tag in _FO), None)
    if bericht is None:
        return Fault(None, None, None, faultcode)
    return _fo_bericht(bericht, faultcode)


def read_answer(content: bytes) -> Answer | Fault:
    """The answer in a SOAP envelope. ValueError when ``content`` is no SOAP envelope with a
    Bv03, Du02, Fo-bericht or fault in its Body (nor one this sink can read)."""
    try:
        envelope = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError("the answer is not XML") from exc
    namespace = etree.QName(envelope).namespace
    if etree.QName(envelope).localname != "Envelope" or namespace not in (SOAP, SOAP12):
        raise ValueError("the answer is not a SOAP envelope")
    body = envelope.find(f"{{{namespace}}}Body")
    message = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    if message is None:
        raise ValueError("the SOAP Body is empty")
    if message.tag == f"{{{namespace}}}Fault":
        return _fault(message)
    if message.tag in _FO:
        return _fo_bericht(message, None)
    stuurgegevens = message.find(f"{{{ZKN}}}stuurgegevens")
    if message.tag == f"{{{STUF}}}Bv03Bericht":
        stuurgegevens = message.find(f"{{{STUF}}}stuurgegevens")
    if stuurgegevens is None:
        raise ValueError(f"the answer {etree.QName(message).localname} has no stuurgegevens")
    berichtcode = _text(stuurgegevens.find(f"{{{STUF}}}berichtcode")) or ""
    crossref = _text(stuurgegevens.find(f"{{{STUF}}}crossRefnummer"))
    if message.tag == f"{{{STUF}}}Bv03Bericht" and berichtcode == "Bv03":
        return Answer("Bv03", crossref)
    localname = etree.QName(message).localname
    if localname in ("genereerZaakIdentificatie_Du02", "genereerDocumentIdentificatie_Du02"):
        entity = "zaak" if localname.startswith("genereerZaak") else "document"
        found = _text(message.find(f"{{{ZKN}}}{entity}/{{{ZKN}}}identificatie"))
        return Answer(berichtcode, crossref, found)
    raise ValueError(f"the answer {localname} is not one this sink expects")


def failure_for_fault(operation: str, fault: Fault) -> Permanent | Retryable:
    """A refusal classified by its plek (client: Permanent, server: Retryable), else by the SOAP
    faultcode (…Client: Permanent, anything else: Retryable); ``code`` the StUF foutcode, else
    the faultcode."""
    code = fault.code or fault.faultcode
    if fault.plek in ("client", "server"):
        client = fault.plek == "client"
        what = f"{fault.berichtcode or 'fault'} {fault.code or ''} (plek {fault.plek})"
    else:
        client = (fault.faultcode or "").rsplit(":", 1)[-1].lower() in ("client", "sender")
        what = f"SOAP fault {fault.faultcode or 'without faultcode'}"
    reason = f"{operation}: {' '.join(what.split())}"
    if client:
        return Permanent(f"{reason}: the zaaksysteem refuses the message", code)
    return Retryable(reason, code)


def failure_for_http(
    operation: str, status: int, headers: Mapping[str, str], now: datetime | None = None
) -> Failure:
    """An HTTP answer that is no StUF answer: 429, and 503 with Retry-After, Throttled (the
    zaaksysteem asks for fewer requests); the rest as connectors.sdk.http classifies them,
    the reason naming ``operation``. ``code`` is the status."""
    now = now or datetime.now(UTC)
    retry_after = retry_after_seconds(
        next((v for k, v in headers.items() if k.lower() == "retry-after"), None), now
    )
    if status == 429 or (status == 503 and retry_after is not None):
        return Throttled(retry_after, str(status), f"{operation}: {status_line(status)}")
    failure = failure_for_status(status, headers, now)
    if failure is None:  # a 2xx without a StUF answer in it
        return Retryable(f"{operation}: {status_line(status)} without a StUF answer", str(status))
    if isinstance(failure, Retryable):
        return Retryable(f"{operation}: {failure.reason}", failure.code, failure.retry_after_s)
    if isinstance(failure, Permanent):
        return Permanent(f"{operation}: {failure.reason}", failure.code)
    return failure
