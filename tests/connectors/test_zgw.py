"""The zgw sink against a real fake zaaksysteem (Catalogi, Zaken and Documenten API on
loopback, tests/fakes/zgw.py): the shared conformance suite, then what the fake stored (the zaak,
the rol with the BSN, the documents with their bytes and links), a delivery interrupted after
each step and redelivered ending with exactly one of everything, how each answer is classified,
and what stops the start."""

from __future__ import annotations

import base64
import copy
import email
import email.policy
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from structlog.testing import capture_logs

from connectors.sdk import (
    AttachmentStore,
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
from connectors.zgw import SPEC as ZGW
from connectors.zgw import ZgwConfig, ZgwSink
from connectors.zgw import sink as zgw_sink
from connectors.zgw.api import multipart_form
from connectors.zgw.sink import build
from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.formulier import v1, v2
from contracts.registry import contract_for
from hub.blobs import FolderBlobStore
from hub.connector_host.attachments import HubAttachments
from hub.delivery.history import idempotency_key
from tests.fakes.zgw import CLIENT_ID, SECRET, FakeZgw, running_zgw

V1 = contract_for("nl.gemeente.formulier.ingediend", 1)
V2 = contract_for("nl.gemeente.formulier.ingediend", 2)
TENANT = TenantInfo("0363", "00000001002564440000", "002564440")
SECRET_ENV = "KNOOPPUNT_ZGW_SECRET"
ENVIRON = {SECRET_ENV: SECRET}
BSN = "999993653"  # the contract example's, a test BSN
MiB = 1024 * 1024
OTHER_EVENT = "0c1f7a4e-2b7d-5b8e-9f3a-4d5e6f708192"
THIRD_EVENT = "1d2e3f40-5a6b-5c7d-8e9f-a0b1c2d3e4f5"
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


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


@contextmanager
def _conformance_fake() -> Iterator[Any]:
    with running_zgw() as zgw:
        yield zgw.conformance(zgw.add_zaaktype("PARKEERVERGUNNING"))


CONFORMANCE = SinkConformance(
    spec=ZGW,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "zaken_api"),
        ({**ZGW.example, "zaaktype": ""}, "zaaktype"),
        (
            {**ZGW.example, "verantwoordelijke_organisatie": "12345"},
            "verantwoordelijke_organisatie",
        ),
        ({**ZGW.example, "identificatie_prefix": "MUCH-TOO-LONG"}, "identificatie_prefix"),
        ({**ZGW.example, "auth": {"type": "none"}}, "auth"),
    ],
    environ=ENVIRON,
    contract=V2,
    payload=lambda number: _payload([_inline(f"foto-{number}.png", PHOTO)]),
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


@pytest.fixture
def zgw() -> Iterator[FakeZgw]:
    with running_zgw() as fake:
        yield fake


def _delivery(
    payload: Mapping[str, Any],
    contract: Any = V2,
    attempt: int = 1,
    progress: Mapping[str, str] | None = None,
    event_id: str = "b6e6c0e5-f93b-511d-b645-64ef99eee849",
) -> Delivery:
    event, _ = build_event(
        contract,
        dict(payload),
        tenant=TENANT.id,
        source=source_urn(TENANT.oin, "test"),
        event_id=event_id,
        time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    )
    key = idempotency_key(event, "zaken")
    return Delivery(event, TENANT.id, "zaken", key, attempt, dict(progress or {}))


def _sink(
    zgw: FakeZgw,
    zaaktype: dict[str, Any] | None = None,
    *,
    environ: dict[str, str] | None = None,
    attachments: AttachmentStore | None = None,
    **settings: Any,
) -> ZgwSink:
    zaaktype = zaaktype or zgw.zaaktypen[0]
    config = ZgwConfig.model_validate(
        {
            "zaken_api": zgw.api("zaken"),
            "catalogi_api": zgw.api("catalogi"),
            "documenten_api": zgw.api("documenten"),
            "auth": {"type": "zgw-jwt", "client_id": CLIENT_ID, "secret_env": SECRET_ENV},
            "zaaktype": zaaktype["identificatie"],
            "informatieobjecttype": zaaktype["informatieobjecttypen"][0],
            **settings,
        }
    )
    context = ConnectorContext(
        TENANT,
        "zaken",
        "zgw",
        secrets=Secrets(ENVIRON if environ is None else environ),
        attachments=attachments,
    )
    return build(config, context)


async def _deliver(sink: ZgwSink, delivery: Delivery) -> Outcome:
    await sink.open()
    try:
        return await sink.deliver(delivery)
    finally:
        await sink.close()


async def _stored_attachment(folder: Path, content: bytes) -> tuple[HubAttachments, dict[str, Any]]:
    store = HubAttachments(FolderBlobStore(folder), "http://hub.example", 30 * MiB, 60 * MiB)
    kept = await store.store(TENANT.id, content, "application/pdf")
    return store, {
        "url": kept.url,
        "name": "bouwtekening.pdf",
        "content_type": "application/pdf",
        "size": kept.size,
        "sha256": kept.sha256,
    }


def _counts(zgw: FakeZgw) -> tuple[int, int, int, int]:
    return (
        len(zgw.stored("zaken")),
        len(zgw.stored("rollen")),
        len(zgw.stored("enkelvoudiginformatieobjecten")),
        len(zgw.stored("zaakinformatieobjecten")),
    )


async def test_the_zaak_rol_and_documents_that_arrive(zgw: FakeZgw, tmp_path: Path) -> None:
    zaaktype = zgw.add_zaaktype("PARKEERVERGUNNING")
    drawing = bytes(range(256)) * 4096  # 1 MiB, every byte value
    store, stored = await _stored_attachment(tmp_path, drawing)
    payload = _payload([stored, _inline("foto.png", PHOTO)])
    sink = _sink(zgw, attachments=store)

    outcome = await _deliver(sink, _delivery(payload))

    [zaak] = zgw.stored("zaken")
    assert outcome == Delivered({"zaak": zaak["url"], "identificatie": zaak["identificatie"]})
    assert isinstance(outcome, Delivered)
    assert outcome.reference == zaak["url"]
    assert zaak["identificatie"].startswith("KNP-")
    assert len(zaak["identificatie"]) == 36
    assert zaak["bronorganisatie"] == zaak["verantwoordelijkeOrganisatie"] == TENANT.rsin
    assert zaak["zaaktype"] == zaaktype["url"]
    assert zaak["startdatum"] == "2026-11-29"
    assert zaak["omschrijving"] == "Parkeervergunning aanvragen"
    assert zaak["kenmerken"] == [{"kenmerk": "OF-7TZ2QX", "bron": "knooppunt"}]
    [created] = zgw.received("POST", "zaken")
    assert created.headers["content-crs"] == created.headers["accept-crs"] == "EPSG:4326"
    [rol] = zgw.stored("rollen")
    assert rol["zaak"] == zaak["url"]
    assert rol["roltype"] == zaaktype["roltypen"][0]
    assert rol["betrokkeneType"] == "natuurlijk_persoon"
    assert rol["betrokkeneIdentificatie"] == {"inpBsn": BSN}
    submitted, *documents = zgw.stored("enkelvoudiginformatieobjecten")
    assert [d["titel"] for d in documents] == ["bouwtekening.pdf", "foto.png"]
    assert [zgw.contents[d["url"]] for d in documents] == [drawing, PHOTO]
    assert [d["formaat"] for d in documents] == ["application/pdf", "image/png"]
    # The submission itself: its data as JSON, the attachments named, not repeated.
    assert submitted["titel"] == submitted["bestandsnaam"] == "inzending-OF-7TZ2QX.json"
    assert submitted["formaat"] == "application/json"
    as_kept = orjson.loads(zgw.contents[submitted["url"]])
    assert as_kept["values"] == payload["values"]
    assert BSN.encode() in zgw.contents[submitted["url"]]  # the zaaksysteem gets the data whole
    assert [a["name"] for a in as_kept["attachments"]] == ["bouwtekening.pdf", "foto.png"]
    assert all("inline_base64" not in a for a in as_kept["attachments"])
    assert submitted["bestandsomvang"] == len(zgw.contents[submitted["url"]])
    documents = [submitted, *documents]
    assert {d["taal"] for d in documents} == {"dut"}
    assert {d["creatiedatum"] for d in documents} == {"2026-11-29"}
    assert {d["bronorganisatie"] for d in documents} == {TENANT.rsin}
    assert {d["informatieobjecttype"] for d in documents} == set(zaaktype["informatieobjecttypen"])
    links = {
        (link["zaak"], link["informatieobject"]) for link in zgw.stored("zaakinformatieobjecten")
    }
    assert links == {(zaak["url"], d["url"]) for d in documents}


async def test_a_company_is_the_initiator_by_its_kvk_number(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    payload = copy.deepcopy(v1.EXAMPLE)
    payload["authentication"] = {"method": "eherkenning", "kvk": "69599084"}
    payload["attachments"] = []

    outcome = await _deliver(_sink(zgw), _delivery(payload, V1))

    assert isinstance(outcome, Delivered)
    [rol] = zgw.stored("rollen")
    assert rol["betrokkeneType"] == "vestiging"
    assert rol["betrokkeneIdentificatie"] == {"kvkNummer": "69599084"}
    assert _counts(zgw) == (1, 1, 1, 1)  # the submission's own document


async def test_no_one_logged_in_makes_a_zaak_without_rol(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    payload = _payload([], method="none")

    outcome = await _deliver(_sink(zgw), _delivery(payload))

    assert isinstance(outcome, Delivered)
    assert _counts(zgw) == (1, 0, 1, 1)


STEPS = ["zaken", "rollen", "enkelvoudiginformatieobjecten", "zaakinformatieobjecten"]
INTERRUPTIONS: dict[str, dict[str, Any]] = {
    "refused-503": {"status": 503},  # nothing stored
    "lost-502": {"status": 502, "after_handling": True},  # stored, answer lost at a gateway
    "lost-timeout": {"status": 201, "after_handling": True, "delay_s": 1.0},  # answered too late
}


@pytest.mark.parametrize("interruption", list(INTERRUPTIONS))
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("with_progress", [True, False], ids=["progress", "replay"])
async def test_an_interrupted_delivery_redelivered_ends_with_one_of_everything(
    zgw: FakeZgw, step: Any, interruption: str, with_progress: bool
) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    payload = _payload([_inline("a.png", PHOTO), _inline("b.png", PHOTO[::-1])])
    zgw.script(step, **INTERRUPTIONS[interruption])

    first = await _deliver(_sink(zgw, timeout_s=0.3), _delivery(payload))
    assert isinstance(first, Retryable), first
    progress = first.progress if with_progress else {}
    again = await _deliver(_sink(zgw), _delivery(payload, attempt=2, progress=progress))
    replayed = await _deliver(_sink(zgw), _delivery(payload, attempt=3))

    assert isinstance(again, Delivered), again
    assert replayed == again
    assert _counts(zgw) == (1, 1, 3, 3)
    [zaak] = zgw.stored("zaken")
    assert again.references["zaak"] == zaak["url"]
    attached = [
        d for d in zgw.stored("enkelvoudiginformatieobjecten") if d["formaat"] == "image/png"
    ]
    assert {zgw.contents[d["url"]] for d in attached} == {PHOTO, PHOTO[::-1]}


async def test_progress_names_what_was_made_and_spares_the_lookups(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    payload = _payload([_inline("a.png", PHOTO)])
    zgw.script("zaakinformatieobjecten", 503)

    first = await _deliver(_sink(zgw, submission_document=False), _delivery(payload))

    assert isinstance(first, Retryable)
    [zaak] = zgw.stored("zaken")
    [rol] = zgw.stored("rollen")
    [document] = zgw.stored("enkelvoudiginformatieobjecten")
    assert first.progress == {"zaak": zaak["url"], "rol": rol["url"], "document:1": document["url"]}
    lookups = len(zgw.received("GET"))
    again = await _deliver(
        _sink(zgw, submission_document=False),
        _delivery(payload, attempt=2, progress=first.progress),
    )
    assert isinstance(again, Delivered)
    # the catalogi lookups of the new sink and the link's own lookup, nothing else
    looked_up = [r.collection for r in zgw.received("GET")[lookups:]]
    assert sorted(looked_up) == ["roltypen", "zaakinformatieobjecten", "zaaktypen"]


@pytest.mark.parametrize(
    ("status", "retry_after", "expected", "code"),
    [
        (500, None, Retryable, "500"),
        (503, "7", Retryable, "503"),
        (429, "7", Throttled, "429"),
        (400, None, Permanent, "400"),
        (404, None, Permanent, "404"),
    ],
)
@pytest.mark.parametrize("step", ["rollen", "enkelvoudiginformatieobjecten"])
async def test_answers_are_classified_naming_the_step(
    zgw: FakeZgw, step: Any, status: int, retry_after: str | None, expected: type, code: str
) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    zgw.script(step, status, retry_after=retry_after)

    sink = _sink(zgw, submission_document=False)  # the attachment's document is the first
    outcome = await _deliver(sink, _delivery(_payload([_inline("a.png", PHOTO)])))

    assert type(outcome) is expected, outcome
    assert isinstance(outcome, Retryable | Throttled | Permanent)
    assert outcome.code == code
    if retry_after is not None:
        assert isinstance(outcome, Retryable | Throttled)
        assert outcome.retry_after_s == 7.0
    if expected is not Throttled:
        name = "rol" if step == "rollen" else "document 1"
        assert outcome.reason.startswith(f"{name}: HTTP {status}")
    if status == 400:
        assert "(bronorganisatie: invalid)" in outcome.reason
        assert "123456789" not in outcome.reason  # the reason the fake gave quotes a value


async def test_a_refused_field_is_named_never_its_value(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    sink = _sink(zgw, verantwoordelijke_organisatie="123456789")  # fails the 11-proef

    outcome = await _deliver(sink, _delivery(_payload([])))

    assert outcome == Permanent(
        "zaak: HTTP 400 Bad Request: the back office rejects it "
        "(verantwoordelijkeOrganisatie: invalid)",
        "400",
    )
    assert _counts(zgw) == (0, 0, 0, 0)


async def test_a_wrong_secret_is_refused_by_the_api_and_permanent(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    sink = _sink(zgw, environ={SECRET_ENV: "not-the-secret-but-32-bytes-long!"})

    await sink.open()  # not fatal: one tenant's zaaksysteem never stops the hub
    outcome = await sink.deliver(_delivery(_payload([])))
    await sink.close()

    assert isinstance(outcome, Permanent)
    assert outcome.code == "403"


async def test_no_answer_is_retryable() -> None:
    with running_zgw() as zgw:
        zaaktype = zgw.add_zaaktype("PARKEERVERGUNNING")
        sink = _sink(zgw, zaaktype)
        await sink.open()
    # the fake stopped: the zaaktype is cached, the Zaken API is gone
    outcome = await sink.deliver(_delivery(_payload([])))
    await sink.close()
    assert isinstance(outcome, Retryable), outcome
    assert outcome.reason.startswith("zaak: "), outcome.reason
    assert outcome.code is None


async def test_an_attachment_the_hub_does_not_have_is_permanent(
    zgw: FakeZgw, tmp_path: Path
) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    store, stored = await _stored_attachment(tmp_path, b"%PDF-1.7")
    missing = {**stored, "url": "http://hub.example/attachments/0363/unknown"}

    sink = _sink(zgw, attachments=store)
    outcome = await _deliver(sink, _delivery(_payload([_inline("a.png", PHOTO), missing])))

    assert outcome == Permanent(
        "document 2: the hub does not have the attachment (sent by a reference the hub does not "
        "keep); nothing was made"
    )
    # Refused before the first step: no zaak waiting for a document that can never come (a
    # new user's trial found the zaak and the submission's document made, then a dead letter).
    assert _counts(zgw) == (0, 0, 0, 0)


async def test_the_zaaktype_in_force_is_used(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING", begin="2019-01-01", einde="2019-12-31")
    current = zgw.add_zaaktype("PARKEERVERGUNNING", begin="2020-01-01")
    zgw.add_zaaktype("PARKEERVERGUNNING", begin="2021-01-01", concept=True)

    outcome = await _deliver(_sink(zgw, current), _delivery(_payload([])))

    assert isinstance(outcome, Delivered)
    [zaak] = zgw.stored("zaken")
    assert zaak["zaaktype"] == current["url"]


async def test_a_new_zaaktype_version_is_used_from_the_day_it_comes_into_force(
    zgw: FakeZgw, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = zgw.add_zaaktype("PARKEERVERGUNNING", begin="2020-01-01", einde="2026-12-31")
    new = zgw.add_zaaktype("PARKEERVERGUNNING", begin="2027-01-01")
    monkeypatch.setattr(zgw_sink, "_today", lambda: date(2026, 12, 31))
    sink = _sink(zgw, old, submission_document=False)  # the fake's versions have their own IOT
    await sink.open()
    try:
        first = await sink.deliver(_delivery(_payload([])))
        same_day = await sink.deliver(_delivery(_payload([]), event_id=OTHER_EVENT))
        monkeypatch.setattr(zgw_sink, "_today", lambda: date(2027, 1, 1))
        next_day = await sink.deliver(_delivery(_payload([]), event_id=THIRD_EVENT))
    finally:
        await sink.close()

    assert all(isinstance(o, Delivered) for o in (first, same_day, next_day)), (
        first,
        same_day,
        next_day,
    )
    assert [z["zaaktype"] for z in zgw.stored("zaken")] == [old["url"], old["url"], new["url"]]
    assert [r.collection for r in zgw.received("GET")].count("zaaktypen") == 2


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"concept": True}, "no zaaktype PARKEERVERGUNNING in force"),
        ({"einde": "2020-12-31"}, "no zaaktype PARKEERVERGUNNING in force"),
    ],
)
async def test_without_a_zaaktype_in_force_the_hub_starts_and_deliveries_say_why(
    zgw: FakeZgw, setup: dict[str, Any], message: str
) -> None:
    # Was: open() refused, so one tenant's catalogus stopped every tenant's hub at start.
    zaaktype = zgw.add_zaaktype("PARKEERVERGUNNING", **setup)
    sink = _sink(zgw, zaaktype)
    await sink.open()
    outcome = await sink.deliver(_delivery(_payload([])))
    await sink.close()
    assert isinstance(outcome, Permanent)
    assert outcome.reason.startswith("zaaktype:")
    assert message in outcome.reason
    assert zgw.stored("zaken") == []


async def test_a_catalogi_api_that_does_not_answer_at_start_is_retried_at_delivery() -> None:
    with running_zgw() as gone:
        sink = _sink(gone, gone.add_zaaktype("PARKEERVERGUNNING"))
    await sink.open()  # the fake stopped: no answer, yet the start goes on
    outcome = await sink.deliver(_delivery(_payload([])))
    await sink.close()
    assert isinstance(outcome, Retryable), outcome


async def test_open_refuses_a_missing_secret(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    sink = _sink(zgw, environ={})
    refusal = r"tenant 0363, destination zaken: auth\.secret_env"
    with pytest.raises(SecretMissingError, match=refusal):
        await sink.open()
    await sink.close()
    assert zgw.received() == []


async def test_a_zaaktype_without_initiator_roltype_refuses_a_rol(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING", initiator=False)

    outcome = await _deliver(_sink(zgw), _delivery(_payload([])))

    assert outcome == Permanent("rol: the zaaktype has no roltype initiator")


async def test_normal_operation_and_failures_log_nothing(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    zgw.script("rollen", 400)
    with capture_logs() as logs:
        refused = await _deliver(_sink(zgw), _delivery(_payload([_inline("a.png", PHOTO)])))
        delivered = await _deliver(
            _sink(zgw), _delivery(_payload([_inline("a.png", PHOTO)]), attempt=2)
        )
    assert isinstance(refused, Permanent)
    assert BSN not in refused.reason
    assert isinstance(delivered, Delivered)
    assert BSN not in str(delivered.references)
    assert logs == []


async def test_the_submission_document_can_be_left_out_and_its_step_is_named(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    zgw.script("enkelvoudiginformatieobjecten", 503)
    refused = await _deliver(_sink(zgw), _delivery(_payload([])))
    assert isinstance(refused, Retryable)
    assert refused.reason.startswith("document inzending: HTTP 503")

    without = await _deliver(_sink(zgw, submission_document=False), _delivery(_payload([])))
    assert isinstance(without, Delivered)
    assert _counts(zgw) == (1, 1, 0, 0)


async def test_a_zaaktype_the_zaaksysteem_no_longer_knows_is_looked_up_again(zgw: FakeZgw) -> None:
    before = zgw.add_zaaktype("PARKEERVERGUNNING")
    sink = _sink(zgw, before)
    await sink.open()
    try:
        first = await sink.deliver(_delivery(_payload([])))
        # The zaaksysteem is rebuilt: the same zaaktype under a new url (a new user's trial:
        # every delivery was a dead letter until midnight, the old url being kept all day).
        iot_id = before["informatieobjecttypen"][0].rsplit("/", 1)[1]
        zgw.zaaktypen.clear()
        zgw.roltypen.clear()
        after = zgw.add_zaaktype("PARKEERVERGUNNING", informatieobjecttype_id=iot_id)
        refused = await sink.deliver(_delivery(_payload([]), event_id=OTHER_EVENT))
        again = await sink.deliver(
            _delivery(_payload([]), event_id=OTHER_EVENT, attempt=2, progress=refused.progress)
            if isinstance(refused, Retryable)
            else _delivery(_payload([]), event_id=OTHER_EVENT, attempt=2)
        )
    finally:
        await sink.close()
    assert isinstance(first, Delivered)
    assert isinstance(refused, Retryable), refused
    assert "looked up again" in refused.reason
    assert isinstance(again, Delivered), again
    assert [z["zaaktype"] for z in zgw.stored("zaken")] == [before["url"], after["url"]]


async def test_the_hubs_store_says_which_attachments_it_has_without_reading_them(
    tmp_path: Path,
) -> None:
    store, stored = await _stored_attachment(tmp_path, b"%PDF-1.7")
    assert await store.has(TENANT.id, stored["url"])
    assert not await store.has("0599", stored["url"])  # another tenant's url: not there
    assert not await store.has(TENANT.id, stored["url"][:-1] + "0")
    assert not await store.has(TENANT.id, "https://formulieren.example/files/x.pdf")


BIG = bytes(range(256)) * 4000  # 1,024,000 bytes


async def test_a_large_file_goes_in_bestandsdelen_and_is_whole_after_the_unlock(
    zgw: FakeZgw, tmp_path: Path
) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    zgw.bestandsdeel_bytes = 300_000
    store, stored = await _stored_attachment(tmp_path, BIG)
    payload = _payload([stored, _inline("foto.png", PHOTO)])
    sink = _sink(zgw, attachments=store, bestandsdelen_above_bytes=100_000)

    outcome = await _deliver(sink, _delivery(payload))

    assert isinstance(outcome, Delivered), outcome
    _submitted, big, photo = zgw.stored("enkelvoudiginformatieobjecten")
    assert zgw.contents[big["url"]] == BIG
    assert (big["locked"], big["bestandsdelen"], big["bestandsomvang"]) == (False, [], len(BIG))
    assert zgw.contents[photo["url"]] == PHOTO  # small: inline, as before
    put = zgw.received("PUT", "bestandsdelen")
    assert [r.status for r in put] == [200, 200, 200, 200]  # 300 + 300 + 300 + 124 thousand
    assert [r.status for r in zgw.received("POST", "unlock")] == [204]
    assert _counts(zgw) == (1, 1, 3, 3)


async def test_an_upload_interrupted_between_parts_goes_on_where_it_stopped(
    zgw: FakeZgw, tmp_path: Path
) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    zgw.bestandsdeel_bytes = 300_000
    store, stored = await _stored_attachment(tmp_path, BIG)
    payload = _payload([stored])
    zgw.script("bestandsdelen", 503, method="PUT")  # the first part's PUT fails once
    zgw.bestandsdeel_bytes = 300_000

    def sink() -> ZgwSink:
        return _sink(zgw, attachments=store, bestandsdelen_above_bytes=100_000)

    first = await _deliver(sink(), _delivery(payload))
    assert isinstance(first, Retryable), first
    assert any(key.startswith("upload:") for key in first.progress)
    # Without its progress (a replay), the locked document cannot be finished: said so.
    lost = await _deliver(sink(), _delivery(payload, attempt=2))
    assert isinstance(lost, Permanent)
    assert "lock is lost" in lost.reason
    again = await _deliver(sink(), _delivery(payload, attempt=2, progress=first.progress))

    assert isinstance(again, Delivered), again
    documents = zgw.stored("enkelvoudiginformatieobjecten")
    assert len(documents) == 2  # the submission's and the file's: one each
    assert zgw.contents[documents[1]["url"]] == BIG
    assert len(zgw.received("PUT", "bestandsdelen")) == 1 + 4  # the failed one, then all four


def test_a_multipart_body_is_what_a_form_parser_reads() -> None:
    body, content_type = multipart_form(
        {"lock": "abc"}, "inhoud", 'rap"port\r\n.pdf', b"\x00\x01%PDF", "application/pdf"
    )
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    assert parts["lock"].get_content() == "abc"
    assert parts["inhoud"].get_content() == b"\x00\x01%PDF"
    assert parts["inhoud"].get_filename() == "rap_port__.pdf"


async def test_the_zaak_starts_on_the_dutch_day_it_was_submitted(zgw: FakeZgw) -> None:
    zgw.add_zaaktype("PARKEERVERGUNNING")
    payload = {**_payload([]), "submitted_at": "2026-11-29T23:30:00+00:00"}  # 00:30 on the 30th

    outcome = await _deliver(_sink(zgw), _delivery(payload))

    assert isinstance(outcome, Delivered)
    [zaak] = zgw.stored("zaken")
    assert zaak["startdatum"] == "2026-11-30"  # as the Objects API and the citizen see it
    assert {d["creatiedatum"] for d in zgw.stored("enkelvoudiginformatieobjecten")} == {
        "2026-11-30"
    }
