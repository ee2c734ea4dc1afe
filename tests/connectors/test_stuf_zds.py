"""The stuf-zds sink against a real fake zaaksysteem speaking StUF-ZDS 1.2 over SOAP 1.1 on
loopback (tests/fakes/stuf_zds.py): the shared conformance suite, then what the fake stored (the
zaak with its zaaktype and initiator, the documents and their zaak, the stuurgegevens), the
element-order check of both sides, a delivery interrupted at each step and redelivered ending
with one of everything, how each answer is classified, and what stops the start."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from lxml import etree
from structlog.testing import capture_logs

from connectors.sdk import (
    ConnectorContext,
    Delivered,
    Delivery,
    Outcome,
    Permanent,
    Retryable,
    SecretMissingError,
    Secrets,
    TenantInfo,
    Throttled,
)
from connectors.sdk.conformance import SinkConformance
from connectors.stuf_zds import SPEC as STUF_ZDS
from connectors.stuf_zds import StufZdsConfig, StufZdsSink
from connectors.stuf_zds.config import Party
from connectors.stuf_zds.messages import Initiator, Stuurgegevens, Zaak, creeer_zaak
from connectors.stuf_zds.schema import order_errors
from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.formulier import v1, v2
from contracts.registry import contract_for
from hub.blobs import FolderBlobStore
from hub.connector_host.attachments import HubAttachments
from hub.delivery.history import idempotency_key
from tests.fakes.stuf_zds import (
    EXISTS_CODE,
    ONTVANGER,
    ZAAKTYPE,
    ZENDER,
    FakeStufZds,
    order_problems,
    running_stuf_zds,
)

V1 = contract_for("nl.gemeente.formulier.ingediend", 1)
V2 = contract_for("nl.gemeente.formulier.ingediend", 2)
TENANT = TenantInfo("0363", "00000001002564440000", "002564440")
BSN = "999993653"  # the contract example's, a test BSN
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4
ZKN = "http://www.egem.nl/StUF/sector/zkn/0310"


def _inline(name: str, content: bytes, content_type: str = "image/png") -> dict[str, Any]:
    return {
        "url": f"https://formulieren.example/files/{name}",
        "name": name,
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "inline_base64": base64.b64encode(content).decode(),
    }


def _payload(attachments: list[dict[str, Any]], **authentication: Any) -> dict[str, Any]:
    payload = copy.deepcopy(v2.EXAMPLE)
    payload["attachments"] = attachments
    if authentication:
        payload["authentication"] = authentication
    return payload


TWO_FILES = [_inline("foto.png", PHOTO), _inline("bouwtekening.pdf", PDF, "application/pdf")]


@contextmanager
def _conformance_fake() -> Iterator[Any]:
    with running_stuf_zds() as fake:
        yield fake.conformance()


CONFORMANCE = SinkConformance(
    spec=STUF_ZDS,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "endpoints"),
        ({**STUF_ZDS.example, "zaaktype_code": "MUCH-TOO-LONG"}, "zaaktype_code"),
        ({**STUF_ZDS.example, "ontvanger": {"organisatie": "0363"}}, "ontvanger"),
        ({**STUF_ZDS.example, "identificatie_prefix": "MUCH-TOO-LONG"}, "identificatie_prefix"),
        ({**STUF_ZDS.example, "already_exists_codes": ["TOO-LONG-CODE"]}, "already_exists_codes"),
        ({**STUF_ZDS.example, "vertrouwelijkheid": "geheim"}, "vertrouwelijkheid"),
        ({**STUF_ZDS.example, "auth": {"type": "zgw-jwt"}}, "auth"),
        (
            {**STUF_ZDS.example, "endpoints": {"url": "https://user:pw@zaken.example/zds"}},
            "endpoints",
        ),
    ],
    contract=V2,
    payload=lambda number: _payload([_inline(f"foto-{number}.png", PHOTO)]),
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


@pytest.fixture
def zds() -> Iterator[FakeStufZds]:
    with running_stuf_zds() as fake:
        yield fake


def _delivery(
    payload: Mapping[str, Any],
    contract: Any = V2,
    attempt: int = 1,
    progress: Mapping[str, str] | None = None,
) -> Delivery:
    event, _ = build_event(
        contract,
        dict(payload),
        tenant=TENANT.id,
        source=source_urn(TENANT.oin, "test"),
        event_id="b6e6c0e5-f93b-511d-b645-64ef99eee849",
        time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    )
    key = idempotency_key(event, "zaaksysteem")
    return Delivery(event, TENANT.id, "zaaksysteem", key, attempt, dict(progress or {}))


def _sink(
    zds: FakeStufZds,
    *,
    environ: dict[str, str] | None = None,
    attachments: HubAttachments | None = None,
    **settings: Any,
) -> StufZdsSink:
    config = StufZdsConfig.model_validate(
        {
            "endpoints": {"url": zds.url},
            "zender": ZENDER,
            "ontvanger": ONTVANGER,
            "zaaktype_code": ZAAKTYPE,
            "documenttype": "Aanvraag",
            "bijlage_documenttype": "Bijlage",
            "vertrouwelijkheid": "ZAAKVERTROUWELIJK",
            "already_exists_codes": [EXISTS_CODE],
            **settings,
        }
    )
    context = ConnectorContext(
        TENANT,
        "zaaksysteem",
        "stuf-zds",
        secrets=Secrets(environ or {}),
        attachments=attachments,
    )
    return StufZdsSink(config, context)


async def _deliver(sink: StufZdsSink, delivery: Delivery) -> Outcome:
    await sink.open()
    try:
        return await sink.deliver(delivery)
    finally:
        await sink.close()


def _counts(zds: FakeStufZds) -> tuple[int, int]:
    return len(zds.zaken), len(zds.documenten)


async def test_the_zaak_initiator_and_documents_that_arrive(zds: FakeStufZds) -> None:
    outcome = await _deliver(_sink(zds), _delivery(_payload(TWO_FILES)))

    [zaak] = zds.zaken
    zaak_id, *document_ids = zds.issued
    assert zaak["identificatie"] == zaak_id
    assert outcome == Delivered(
        {
            "zaak": zaak_id,
            "inzending": document_ids[0],
            "bijlage:1": document_ids[1],
            "bijlage:2": document_ids[2],
        }
    )
    assert zaak["zaaktype"] == ZAAKTYPE
    assert zaak["omschrijving"] == "Parkeervergunning aanvragen"
    assert zaak["kenmerk"] == "OF-7TZ2QX"
    assert zaak["startdatum"] == "20261129"
    assert zaak["betalingsIndicatie"] == "Geheel"
    assert zaak["initiator"] == {
        "soort": "natuurlijkPersoon",
        "bsn": BSN,
        "nnpId": None,
        "extra": {},
    }
    assert zaak["zender"] == ZENDER
    assert zaak["ontvanger"] == ONTVANGER
    documents = zds.documenten
    assert [d["identificatie"] for d in documents] == document_ids
    assert {d["zaak"] for d in documents} == {zaak_id}
    assert [d["titel"] for d in documents] == ["OF-7TZ2QX.json", "foto.png", "bouwtekening.pdf"]
    assert [d["dct.omschrijving"] for d in documents] == ["Aanvraag", "Bijlage", "Bijlage"]
    assert [d["formaat"] for d in documents] == ["application/json", "image/png", "application/pdf"]
    assert [d["inhoud"] for d in documents[1:]] == [PHOTO, PDF]
    data = orjson.loads(documents[0]["inhoud"])
    assert data["reference"] == "OF-7TZ2QX"
    assert data["values"] == v2.EXAMPLE["values"]
    assert "authentication" not in data
    assert {d["taal"] for d in documents} == {"dut"}
    assert {d["vertrouwelijkAanduiding"] for d in documents} == {"ZAAKVERTROUWELIJK"}
    requests = zds.received()
    assert [r.operation for r in requests] == [
        "genereerZaakIdentificatie_Di02",
        "creeerZaak_Lk01",
        *["genereerDocumentIdentificatie_Di02", "voegZaakdocumentToe_Lk01"] * 3,
    ]
    assert {r.content_type for r in requests} == {"text/xml; charset=utf-8"}
    assert {r.soap_action for r in requests} == {f"{ZKN}/{r.operation}" for r in requests}
    assert len({r.referentienummer for r in requests}) == len(requests)
    assert {r.status for r in requests} == {200}


async def test_each_service_can_have_its_own_url(zds: FakeStufZds) -> None:
    sink = _sink(
        zds,
        endpoints={
            "url": zds.service("nowhere"),
            "vrije_berichten": zds.service("VrijeBerichten"),
            "ontvang_asynchroon": zds.service("OntvangAsynchroon"),
        },
    )

    outcome = await _deliver(sink, _delivery(_payload([])))

    assert isinstance(outcome, Delivered), outcome
    assert {(r.path, r.operation) for r in zds.received()} == {
        ("VrijeBerichten", "genereerZaakIdentificatie_Di02"),
        ("VrijeBerichten", "genereerDocumentIdentificatie_Di02"),
        ("OntvangAsynchroon", "creeerZaak_Lk01"),
        ("OntvangAsynchroon", "voegZaakdocumentToe_Lk01"),
    }


async def test_a_service_given_the_wrong_operation_refuses_it(zds: FakeStufZds) -> None:
    sink = _sink(zds, endpoints={"url": zds.service("OntvangAsynchroon")})

    outcome = await _deliver(sink, _delivery(_payload([])))

    assert isinstance(outcome, Permanent), outcome
    assert outcome.code == "soap:Client"
    assert outcome.reason.startswith("genereerZaakIdentificatie_Di02: SOAP fault soap:Client")


@pytest.mark.parametrize(
    ("authentication", "initiator"),
    [
        ({"method": "eherkenning", "kvk": "69599084"}, ("nietNatuurlijkPersoon", None, "69599084")),
        ({"method": "none"}, None),
    ],
)
async def test_a_company_or_no_one_as_initiator(
    zds: FakeStufZds, authentication: dict[str, str], initiator: tuple[str, None, str] | None
) -> None:
    payload = copy.deepcopy(v1.EXAMPLE)
    payload["authentication"] = authentication
    payload["attachments"] = []

    outcome = await _deliver(_sink(zds), _delivery(payload, V1))

    assert isinstance(outcome, Delivered), outcome
    [zaak] = zds.zaken
    if initiator is None:
        assert zaak["initiator"] is None
    else:
        soort, nnp_id, kvk = initiator
        assert zaak["initiator"] == {
            "soort": soort,
            "bsn": None,
            "nnpId": nnp_id,
            "extra": {"kvkNummer": kvk},
        }


def _zaak_message() -> bytes:
    stuur = Stuurgegevens(
        Party(**ZENDER), Party(**ONTVANGER), "ref-order", datetime(2026, 11, 29, tzinfo=UTC)
    )
    zaak = Zaak(
        identificatie="0363ZK999999",
        omschrijving="Parkeervergunning",
        kenmerk="OF-1",
        startdatum=datetime(2026, 11, 29).date(),
        registratiedatum=datetime(2026, 11, 29).date(),
        betalingsindicatie=None,
        zaaktype_code=ZAAKTYPE,
        zaaktype_omschrijving=None,
        initiator=Initiator("bsn", BSN),
    )
    return creeer_zaak(stuur, zaak)


def _swapped(message: bytes, first: str, second: str) -> etree._Element:
    """``message`` with the zaak's ZKN element ``second`` moved before ``first``."""
    envelope = etree.fromstring(message)
    obj = envelope.find(f".//{{{ZKN}}}object")
    assert obj is not None
    one, other = obj.find(f"{{{ZKN}}}{first}"), obj.find(f"{{{ZKN}}}{second}")
    assert one is not None
    assert other is not None
    one.addprevious(other)  # lxml moves it
    return envelope


def test_the_sinks_messages_pass_the_fakes_own_order_check() -> None:
    envelope = etree.fromstring(_zaak_message())
    assert order_errors(envelope) == []
    assert order_problems(envelope[0][0]) == []


def test_both_order_checks_catch_elements_out_of_order() -> None:
    envelope = _swapped(_zaak_message(), "startdatum", "registratiedatum")

    assert order_problems(envelope[0][0]) == [
        "zakLk01/object/startdatum: out of schema order in object@ZAK"
    ]
    [error] = order_errors(envelope)
    assert error.startswith("soap:Body/ZKN:zakLk01/ZKN:object/ZKN:startdatum: out of order")


def test_the_connectors_check_names_a_missing_required_element() -> None:
    envelope = etree.fromstring(_zaak_message())
    stuurgegevens = envelope.find(f".//{{{ZKN}}}stuurgegevens")
    assert stuurgegevens is not None
    stuurgegevens.remove(stuurgegevens[3])  # referentienummer

    assert order_errors(envelope) == [
        "soap:Body/ZKN:zakLk01/ZKN:stuurgegevens: StuurgegevensLk01 lacks the required "
        "StUF:referentienummer"
    ]


async def test_the_fake_refuses_a_message_out_of_order(zds: FakeStufZds) -> None:
    envelope = _swapped(_zaak_message(), "identificatie", "omschrijving")
    body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{ZKN}/creeerZaak_Lk01"',
    }

    async with httpx.AsyncClient() as client:
        answer = await client.post(zds.url, content=body, headers=headers)

    assert answer.status_code == 500
    fault = etree.fromstring(answer.content)
    assert fault.findtext(".//{http://www.egem.nl/StUF/StUF0301}code") == "StUF055"
    assert fault.findtext(".//{http://www.egem.nl/StUF/StUF0301}plek") == "client"
    assert zds.zaken == []


STEPS = [
    "genereerZaakIdentificatie_Di02",
    "creeerZaak_Lk01",
    "genereerDocumentIdentificatie_Di02",
    "voegZaakdocumentToe_Lk01",
]
INTERRUPTIONS: dict[str, dict[str, Any]] = {
    "refused-server": {"kind": "server"},  # Fo02/Fo03 plek server, nothing made
    "lost-500": {"kind": "http500", "after_handling": True},  # made, answer lost on the way
    "answered-late": {"kind": "hang", "delay_s": 1.0},  # made after the sink gave up
}


# Identificaties from the step keys (hub) ask the zaaksysteem for none: no Di02 to interrupt.
CASES = [
    (mode, step)
    for mode in ("genereer-progress", "hub-progress", "hub-replay")
    for step in STEPS
    if not (mode.startswith("hub") and step.startswith("genereer"))
]


@pytest.mark.parametrize("interruption", list(INTERRUPTIONS))
@pytest.mark.parametrize(("mode", "step"), CASES)
async def test_an_interrupted_delivery_redelivered_ends_with_one_of_everything(
    zds: FakeStufZds, mode: str, step: Any, interruption: str
) -> None:
    identificaties, _, resume = mode.partition("-")
    payload = _payload(TWO_FILES)
    zds.script(step, **INTERRUPTIONS[interruption])

    first = await _deliver(
        _sink(zds, identificaties=identificaties, timeout_s=0.3), _delivery(payload)
    )
    assert isinstance(first, Retryable), first
    progress = first.progress if resume == "progress" else {}
    again = await _deliver(
        _sink(zds, identificaties=identificaties), _delivery(payload, attempt=2, progress=progress)
    )

    assert isinstance(again, Delivered), again
    assert _counts(zds) == (1, 3)
    [zaak] = zds.zaken
    assert again.references["zaak"] == zaak["identificatie"]
    assert {d["zaak"] for d in zds.documenten} == {zaak["identificatie"]}
    assert sorted(d["titel"] for d in zds.documenten) == [
        "OF-7TZ2QX.json",
        "bouwtekening.pdf",
        "foto.png",
    ]


async def test_progress_keeps_what_was_made_and_asks_for_nothing_twice(zds: FakeStufZds) -> None:
    payload = _payload([_inline("a.png", PHOTO)])
    zds.script("voegZaakdocumentToe_Lk01", "server", times=2)  # the data, then it again

    first = await _deliver(_sink(zds), _delivery(payload))

    assert isinstance(first, Retryable)
    zaak_id, document_id = zds.issued
    assert first.progress == {"zaak:id": zaak_id, "zaak": zaak_id, "inzending:id": document_id}
    second = await _deliver(_sink(zds), _delivery(payload, attempt=2, progress=first.progress))
    assert isinstance(second, Retryable)
    assert second.progress == first.progress
    third = await _deliver(_sink(zds), _delivery(payload, attempt=3, progress=second.progress))
    assert isinstance(third, Delivered)
    assert len(zds.issued) == 3  # the zaak, the data, the attachment: each asked for once
    assert [r.operation for r in zds.received()].count("creeerZaak_Lk01") == 1


async def test_without_its_exists_code_a_zaak_made_earlier_is_a_refusal(zds: FakeStufZds) -> None:
    payload = _payload([])
    zds.script("creeerZaak_Lk01", "http500", after_handling=True)
    first = await _deliver(_sink(zds), _delivery(payload))
    assert isinstance(first, Retryable)

    again = await _deliver(
        _sink(zds, already_exists_codes=[]), _delivery(payload, attempt=2, progress=first.progress)
    )

    assert again == Permanent(
        "creeerZaak_Lk01: Fo03 ZKN0001 (plek client): the zaaksysteem refuses the message",
        "ZKN0001",
    )
    assert _counts(zds) == (1, 0)


@pytest.mark.parametrize(
    ("step", "kind", "expected", "code"),
    [
        ("genereerZaakIdentificatie_Di02", "server", Retryable, "StUF058"),
        ("genereerZaakIdentificatie_Di02", "client", Permanent, "StUF052"),
        ("creeerZaak_Lk01", "server", Retryable, "StUF058"),
        ("creeerZaak_Lk01", "client", Permanent, "StUF052"),
        ("creeerZaak_Lk01", "http500", Retryable, "500"),
        ("creeerZaak_Lk01", "busy", Throttled, "503"),
        ("voegZaakdocumentToe_Lk01", "busy", Throttled, "503"),  # a zaak made: with progress
        ("voegZaakdocumentToe_Lk01", "client", Permanent, "StUF052"),
    ],
)
async def test_faults_are_classified_by_plek_and_status(
    zds: FakeStufZds, step: Any, kind: Any, expected: type, code: str
) -> None:
    zds.script(step, kind)

    outcome = await _deliver(_sink(zds), _delivery(_payload([_inline("a.png", PHOTO)])))

    assert type(outcome) is expected, outcome
    assert isinstance(outcome, Retryable | Throttled | Permanent)
    assert outcome.code == code
    assert outcome.reason.startswith(f"{step}: ")
    assert BSN not in outcome.reason  # the fault's details quote one
    if kind == "busy":
        assert isinstance(outcome, Retryable | Throttled)
        if step == "voegZaakdocumentToe_Lk01":  # what was made travels on: no second zaak
            assert "zaak" in outcome.progress
        assert outcome.retry_after_s == 7.0
    if isinstance(outcome, Retryable | Throttled) and step == "voegZaakdocumentToe_Lk01":
        assert outcome.progress["zaak"] == zds.zaken[0]["identificatie"]


async def test_a_fault_reason_names_berichtcode_code_and_plek(zds: FakeStufZds) -> None:
    zds.script("creeerZaak_Lk01", "server")

    outcome = await _deliver(_sink(zds), _delivery(_payload([])))

    assert isinstance(outcome, Retryable)
    assert outcome.reason == "creeerZaak_Lk01: Fo03 StUF058 (plek server)"


async def test_no_answer_in_time_is_retryable(zds: FakeStufZds) -> None:
    zds.script("genereerZaakIdentificatie_Di02", "hang", delay_s=1.0)

    outcome = await _deliver(_sink(zds, timeout_s=0.2), _delivery(_payload([])))

    assert isinstance(outcome, Retryable), outcome
    assert outcome.reason.startswith("genereerZaakIdentificatie_Di02: timeout after 0.2 s")
    assert outcome.code is None


async def test_basic_credentials_are_sent_and_a_wrong_password_is_permanent(
    zds: FakeStufZds,
) -> None:
    zds.basic = ("knooppunt", "s3cret-wachtwoord")
    auth = {"type": "basic", "username": "knooppunt", "password_env": "ZDS_PASSWORD"}

    right = await _deliver(
        _sink(zds, auth=auth, environ={"ZDS_PASSWORD": "s3cret-wachtwoord"}),
        _delivery(_payload([])),
    )
    wrong = await _deliver(
        _sink(zds, auth=auth, environ={"ZDS_PASSWORD": "wrong"}), _delivery(_payload([]))
    )

    assert isinstance(right, Delivered), right
    assert zds.received()[0].authorization.startswith("Basic ")
    assert isinstance(wrong, Permanent)
    assert wrong.code == "401"


async def test_open_refuses_a_missing_password(zds: FakeStufZds) -> None:
    auth = {"type": "basic", "username": "knooppunt", "password_env": "ZDS_PASSWORD"}
    sink = _sink(zds, auth=auth)
    refusal = r"tenant 0363, destination zaaksysteem: auth\.password_env"
    with pytest.raises(SecretMissingError, match=refusal):
        await sink.open()
    await sink.close()
    assert zds.received() == []


async def test_check_reaches_each_service_without_a_message(zds: FakeStufZds) -> None:
    sink = _sink(zds)
    health = await sink.check()
    await sink.close()
    assert health.ok, health
    assert zds.received() == []


async def test_normal_operation_and_failures_log_nothing(zds: FakeStufZds) -> None:
    zds.script("creeerZaak_Lk01", "client")
    with capture_logs() as logs:
        refused = await _deliver(_sink(zds), _delivery(_payload([_inline("a.png", PHOTO)])))
        delivered = await _deliver(
            _sink(zds), _delivery(_payload([_inline("a.png", PHOTO)]), attempt=2)
        )
    assert isinstance(refused, Permanent)
    assert BSN not in refused.reason
    assert isinstance(delivered, Delivered)
    assert BSN not in str(delivered.references)
    assert logs == []


async def test_an_attachment_in_the_hubs_store_arrives_and_a_missing_one_is_permanent(
    zds: FakeStufZds, tmp_path: Path
) -> None:
    store = HubAttachments(FolderBlobStore(tmp_path), "http://hub.example", 2**25, 2**26)
    kept = await store.store(TENANT.id, PDF, "application/pdf")
    stored = {
        "url": kept.url,
        "name": "bouwtekening.pdf",
        "content_type": "application/pdf",
        "size": kept.size,
        "sha256": kept.sha256,
    }
    missing = {**stored, "url": "http://hub.example/attachments/0363/unknown"}

    delivered = await _deliver(_sink(zds, attachments=store), _delivery(_payload([stored])))
    refused = await _deliver(
        _sink(zds, identificaties="hub", attachments=store), _delivery(_payload([missing]))
    )

    assert isinstance(delivered, Delivered), delivered
    assert zds.documenten[1]["inhoud"] == PDF
    assert refused == Permanent("bijlage 1: the hub does not have it; nothing was made")
    assert len(zds.zaken) == 1  # the first delivery's: the refused one made nothing


async def test_the_zaak_starts_on_the_dutch_day_it_was_submitted(zds: FakeStufZds) -> None:
    payload = {**_payload([]), "submitted_at": "2026-11-29T23:30:00+00:00"}  # 00:30 on the 30th
    outcome = await _deliver(_sink(zds), _delivery(payload))
    assert isinstance(outcome, Delivered)
    assert zds.zaken[0]["startdatum"] == "20261130"
