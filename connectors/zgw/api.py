"""What the sink says to the ZGW APIs and reads from their answers (VNG-Realisatie zaken-api
1.5, catalogi-api 1.x, documenten-api 1.x OpenAPI specifications). Plain functions, no I/O.

- Catalogi: ``GET zaaktypen?identificatie=&status=definitief[&catalogus=]`` and
  ``GET roltypen?zaaktype=&omschrijvingGeneriek=initiator&status=definitief``; paginated lists
  ``{count, next, previous, results}``.
- Zaken: ``GET zaken?bronorganisatie=&identificatie=`` and ``POST zaken`` (both need
  ``Accept-Crs``, the POST ``Content-Crs``); ``GET rollen?zaak=&betrokkeneType=&
  omschrijvingGeneriek=initiator`` and ``POST rollen`` (``roltoelichting`` required);
  ``GET zaakinformatieobjecten?zaak=&informatieobject=`` (a plain list) and its POST.
- Documenten: ``GET enkelvoudiginformatieobjecten?bronorganisatie=&identificatie=`` and
  ``POST enkelvoudiginformatieobjecten`` with ``inhoud`` base64.
- Errors: ``Fout`` / ``ValidatieFout`` ``{type, code, title, status, detail, instance,
  invalidParams: [{name, code, reason}]}``.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connectors.sdk import HttpResponse

__all__ = [
    "CRS",
    "document_body",
    "identificatie",
    "in_force",
    "initiator_rol",
    "listed",
    "made_url",
    "multipart_form",
    "rol_body",
    "submission_file",
    "taal",
    "zaak_body",
]

CRS = "EPSG:4326"  # WGS84: the Zaken API needs Accept-Crs and Content-Crs on zaken
_TAAL = {"nl": "dut", "en": "eng", "de": "ger", "fr": "fre", "fy": "fry", "es": "spa"}


def identificatie(prefix: str, step_key: str) -> str:
    """The identificatie the hub gives a zaak or document: ``prefix`` and the step key's 32 hex
    digits (at most 40 characters, the APIs' limit), the same on every attempt."""
    return f"{prefix}{uuid.UUID(step_key).hex}"


def taal(language: str) -> str:
    """ISO 639-2/B code (``dut``) for a submission's ISO 639-1 language (``nl``); ``dut`` for
    one not in the table."""
    return _TAAL.get(language, "dut")


def listed(response: HttpResponse) -> list[dict[str, Any]]:
    """The objects of a list answer, paginated (``results``) or plain; ValueError otherwise."""
    body = response.json()
    results = body.get("results") if isinstance(body, dict) else body
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise ValueError("not a ZGW list answer")
    return results


def in_force(zaaktypen: list[dict[str, Any]], today: date) -> dict[str, Any] | None:
    """The zaaktype version valid on ``today`` (beginGeldigheid <= today <= eindeGeldigheid),
    the latest beginning when several are; None when none is."""
    valid = [
        z
        for z in zaaktypen
        if str(z.get("beginGeldigheid", "")) <= today.isoformat()
        and (not z.get("eindeGeldigheid") or today.isoformat() <= str(z["eindeGeldigheid"]))
    ]
    return max(valid, key=lambda z: str(z.get("beginGeldigheid", "")), default=None)


def made_url(response: HttpResponse) -> str:
    """The ``url`` of a created or listed object; ValueError when the answer has none."""
    body = response.json()
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str):
        raise ValueError("the answer names no url")
    return url


def zaak_body(
    *,
    zaaktype: str,
    bronorganisatie: str,
    verantwoordelijke: str,
    ident: str,
    startdatum: date,
    omschrijving: str,
    kenmerk: str,
    vertrouwelijkheid: str | None,
) -> dict[str, Any]:
    """The Zaak to POST. ``omschrijving`` is cut to 80 characters, the kenmerk (the submission's
    public reference) to 40, as the API allows. ``registratiedatum`` is left to the API (today,
    in its own time zone)."""
    body: dict[str, Any] = {
        "identificatie": ident,
        "bronorganisatie": bronorganisatie,
        "verantwoordelijkeOrganisatie": verantwoordelijke,
        "zaaktype": zaaktype,
        "startdatum": startdatum.isoformat(),
        "omschrijving": omschrijving[:80],
        "kenmerken": [{"kenmerk": kenmerk[:40], "bron": "knooppunt"}],
    }
    if vertrouwelijkheid:
        body["vertrouwelijkheidaanduiding"] = vertrouwelijkheid
    return body


def initiator_rol(subject: dict[str, Any] | None) -> tuple[str, dict[str, str]] | None:
    """``(betrokkeneType, betrokkeneIdentificatie)`` of the initiator for the submission's legal
    subject (v2 ``{type, value}``): a BSN as natuurlijk_persoon ``inpBsn``, a KvK number as
    vestiging ``kvkNummer`` (Zaken API 1.5), an RSIN as niet_natuurlijk_persoon ``innNnpId``.
    None for no subject or a pseudonym: no initiator rol then."""
    if subject is None:
        return None
    value = str(subject["value"])
    return {
        "bsn": ("natuurlijk_persoon", {"inpBsn": value}),
        "kvk": ("vestiging", {"kvkNummer": value}),
        "rsin": ("niet_natuurlijk_persoon", {"innNnpId": value}),
    }.get(str(subject["type"]))


def rol_body(zaak: str, roltype: str, kind: str, identification: dict[str, str]) -> dict[str, Any]:
    """The initiator Rol to POST."""
    return {
        "zaak": zaak,
        "betrokkeneType": kind,
        "roltype": roltype,
        "roltoelichting": "Indiener van het formulier",
        "betrokkeneIdentificatie": identification,
    }


def document_body(
    *,
    ident: str,
    bronorganisatie: str,
    informatieobjecttype: str,
    created: date,
    titel: str,
    auteur: str,
    language: str,
    content_type: str,
    content: bytes,
    vertrouwelijkheid: str | None,
    in_parts: bool = False,
) -> dict[str, Any]:
    """The EnkelvoudigInformatieObject to POST, ``inhoud`` the content in base64; ``in_parts``:
    ``inhoud`` null, the content to follow in bestandsdelen (Documenten API 1.1+)."""
    body: dict[str, Any] = {
        "identificatie": ident,
        "bronorganisatie": bronorganisatie,
        "creatiedatum": created.isoformat(),
        "titel": titel[:200],
        "auteur": auteur,
        "status": "definitief",
        "formaat": content_type,
        "taal": taal(language),
        "bestandsnaam": titel[:255],
        "bestandsomvang": len(content),
        "inhoud": None if in_parts else base64.b64encode(content).decode("ascii"),
        "informatieobjecttype": informatieobjecttype,
        "indicatieGebruiksrecht": False,
    }
    if vertrouwelijkheid:
        body["vertrouwelijkheidaanduiding"] = vertrouwelijkheid
    return body


def submission_file(submission: dict[str, Any]) -> dict[str, Any]:
    """The submission itself as an attachment-shaped file (name, content_type, size, sha256,
    inline_base64): its data as JSON, each attachment by name, type, size and sha256 only (its
    content is a document of its own). The same bytes for every attempt of one submission, so a
    redelivery finds the document it made (its identificatie is the step key's)."""
    data = {
        **submission,
        "attachments": [
            {k: v for k, v in attachment.items() if k != "inline_base64"}
            for attachment in submission.get("attachments", [])
        ],
    }
    content = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
    reference = str(submission.get("reference") or submission.get("submission_id") or "")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in reference)[:60]
    return {
        "name": f"inzending-{safe}.json" if safe else "inzending.json",
        "content_type": "application/json",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "inline_base64": base64.b64encode(content).decode("ascii"),
    }


def multipart_form(
    fields: Mapping[str, str], file_field: str, filename: str, content: bytes, content_type: str
) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body (RFC 7578) of text ``fields`` and one file; the body and
    its Content-Type. The file name is made plain ASCII (quotes, line breaks and anything
    outside printable ASCII become ``_``): it names the part, and a header may not carry more."""
    boundary = uuid.uuid4().hex
    safe = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename) or "bestand"
    head: list[str] = []
    for name, value in fields.items():
        head += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    head += [
        f"--{boundary}",
        f'Content-Disposition: form-data; name="{file_field}"; filename="{safe}"',
        f"Content-Type: {content_type}",
        "",
        "",
    ]
    body = "\r\n".join(head).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
