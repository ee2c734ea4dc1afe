"""The demo config deploy/demo/backoffices.yaml, as a new user runs it: one submission reaches a
ZGW zaaksysteem, a StUF-ZDS zaaksysteem, an Objects API and an e-mail inbox at once, each the
project's fake of its protocol (tests/fakes/backoffices.py); the tests read what each stored."""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.config import load_config
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.fakes.backoffices import CONFIG, ENVIRON, BackOffices, running_backoffices
from tests.fakes.stuf_zds import ZAAKTYPE as STUF_ZAAKTYPE
from tests.integration.helpers import until, wait_ready
from tests.samples import VALID_BSN, submission

pytestmark = pytest.mark.kafka
PLAN = b"%PDF-1.7\n" + bytes(range(256)) * 64  # an attachment: the event's site plan


@pytest.fixture
def offices(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackOffices]:
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    with running_backoffices() as found:
        yield found


def _attachment() -> dict[str, Any]:
    return {
        "url": "https://formulieren.example/files/situatietekening.pdf",
        "name": "situatietekening.pdf",
        "content_type": "application/pdf",
        "size": len(PLAN),
        "sha256": hashlib.sha256(PLAN).hexdigest(),
        "inline_base64": base64.b64encode(PLAN).decode(),
    }


async def test_one_submission_reaches_all_four_back_offices_as_their_protocols_expect(
    hub_settings: Settings, offices: BackOffices, tmp_path: Path
) -> None:
    path = tmp_path / "backoffices.yaml"
    path.write_text(offices.config_text(), encoding="utf-8")
    shutil.copytree(CONFIG.parent / "secrets", tmp_path / "secrets")
    config = load_config(path)
    sent = submission(
        "evenementenvergunning",
        form={"id": "evenementenvergunning", "name": "Evenementenvergunning aanvragen"},
        values={"toelichting": "Buurtfeest Dam", "bezoekers": 250},
        attachments=[_attachment()],
    )
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        answer = await http.post(
            "/api/v1/tenants/0363/submissions",
            json=sent,
            headers={"Authorization": f"Bearer {demo_token()}"},
        )
        assert answer.status_code == 202, answer.text
        await until(
            lambda: (
                len(offices.zgw.stored("zaakinformatieobjecten")) == 2
                and len(offices.stuf_zds.documenten) == 2
                and len(offices.objects_api.stored()) == 1
                and len(offices.smtp.arrived()) == 1
            ),
            timeout_s=60,
        )

    # ZGW: the zaak of the configured zaaktype, the citizen as initiator, two documents linked.
    [zaak] = offices.zgw.stored("zaken")
    assert zaak["zaaktype"] == offices.zgw.zaaktypen[0]["url"]
    assert zaak["bronorganisatie"] == "002564440"
    assert zaak["omschrijving"] == "Evenementenvergunning aanvragen"
    [rol] = offices.zgw.stored("rollen")
    assert (rol["zaak"], rol["betrokkeneIdentificatie"]) == (zaak["url"], {"inpBsn": VALID_BSN})
    documents = offices.zgw.stored("enkelvoudiginformatieobjecten")
    assert [d["titel"] for d in documents] == ["inzending-OF-7TZ2QX.json", "situatietekening.pdf"]
    assert offices.zgw.contents[documents[1]["url"]] == PLAN
    links = offices.zgw.stored("zaakinformatieobjecten")
    assert {(x["zaak"], x["informatieobject"]) for x in links} == {
        (zaak["url"], d["url"]) for d in documents
    }
    # StUF-ZDS: a zaak with the BSN as initiator, its documents related to it (the fake checked
    # every message's elements and their order against the schema before storing it).
    [stuf_zaak] = offices.stuf_zds.zaken
    assert stuf_zaak["zaaktype"] == STUF_ZAAKTYPE
    assert stuf_zaak["identificatie"].startswith("KNP")  # the hub's: a replay makes no second
    assert stuf_zaak["initiator"]["bsn"] == VALID_BSN
    assert stuf_zaak["zender"]["applicatie"] == "KNOOPPUNT"
    assert stuf_zaak["ontvanger"]["applicatie"] == "ZAAKSYSTEEM"
    assert {d["zaak"] for d in offices.stuf_zds.documenten} == {stuf_zaak["identificatie"]}
    assert PLAN in [d["inhoud"] for d in offices.stuf_zds.documenten]
    # Objects API: one object of the objecttype, its data mapped from the submission.
    [made] = offices.objects_api.stored()
    assert made["type"] == offices.objecttype
    data = made["record"]["data"]
    assert data["referentie"] == "OF-7TZ2QX"
    assert data["formulier"] == "evenementenvergunning"
    assert data["evenement"] == "Buurtfeest Dam"
    assert data["knooppuntId"]
    # E-mail: the readable message, with a plain-text and an HTML part and the plan attached.
    [mail] = offices.smtp.arrived()
    assert mail.rcpt_tos == ("vergunningen@gemeente.example",)
    assert (
        mail.message["Subject"]
        == "Formulier ingediend: Evenementenvergunning aanvragen (OF-7TZ2QX)"
    )
    body = mail.message.get_body(("plain",))
    html = mail.message.get_body(("html",))
    assert body is not None
    assert "Buurtfeest Dam" in body.get_content()
    assert html is not None
    assert "<table" in html.get_content()
    [attached] = list(mail.message.iter_attachments())
    assert attached.get_filename() == "situatietekening.pdf"
    assert attached.get_content() == PLAN
    assert orjson.loads(offices.zgw.contents[documents[0]["url"]])["reference"] == "OF-7TZ2QX"
