"""Open Formulieren's generic JSON registration, taken as it is sent (issue 8, part 2).

The body in tests/fixtures/open_formulieren_generic_json.json has the shape of Open Formulieren's
"Generic JSON registration" backend (3.1.1 and later): values (text, a date, selectboxes, a nested
object, a file, a list of files, an empty file field, a repeating group holding a file),
values_schema, metadata with the backend's default fixed variables plus auth_bsn and
language_code, and metadata_schema.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.eformulieren import SPEC
from connectors.sdk.source_conformance import (
    MemoryAttachments,
    PushSourceConformance,
    SourceRequest,
    _Recorded,
)
from contracts.formulier.v1 import FormulierIngediend
from tests.samples import VALID_BSN

BODY: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "open_formulieren_generic_json.json").read_text()
)
PATH = "/api/v1/tenants/0363/open-formulieren"


def _suite(attachments: MemoryAttachments | None = None) -> PushSourceConformance:
    return PushSourceConformance(
        spec=SPEC,
        valid=lambda n: SourceRequest(PATH, BODY),
        violation=(BODY, "-"),
        attachments=attachments if attachments is not None else MemoryAttachments(),
    )


async def _send(body: dict[str, Any], attachments: MemoryAttachments | None = None) -> Any:
    recorded, store = _Recorded(), attachments if attachments is not None else MemoryAttachments()
    answer = await _suite(store).send(recorded, SourceRequest(PATH, body))
    return answer, recorded, store


async def test_the_generic_json_body_becomes_a_submission_with_its_files_by_reference() -> None:
    answer, recorded, store = await _send(BODY)
    assert answer.status_code == 202, answer.text
    [new] = recorded.published
    submission = new.payload
    assert isinstance(submission, FormulierIngediend)
    assert submission.reference == "OF-7QX2KA"
    assert submission.form.id == "3f1c9a2e-5b7d-4e8a-9c01-2d4b6e8f0a13"
    assert submission.form.name == "Melding openbare ruimte"
    assert submission.authentication.method == "digid"
    assert submission.authentication.bsn == VALID_BSN
    assert submission.submitted_at.isoformat() == "2026-11-29T09:41:00+00:00"
    assert submission.values["naam"] == "Jan Jansen"
    assert submission.values["soortMelding"] == {"afval": True, "verlichting": False}
    assert submission.values["leeg"] is None
    # Each file is an attachment (in the order met), its place in values points at it.
    names = [a.name for a in submission.attachments]
    assert names == ["melding.pdf", "foto1.jpg", "verklaring.pdf"]
    assert submission.values["bijlage"] == {"file_name": "melding.pdf", "attachment": 0}
    assert submission.values["getuigen"] == [
        {"naam": "Piet", "verklaring": {"file_name": "verklaring.pdf", "attachment": 2}}
    ]
    sent = base64.b64decode(BODY["values"]["bijlage"]["content"])
    first = submission.attachments[0]
    assert first.sha256 == hashlib.sha256(sent).hexdigest()
    assert first.size == len(sent)
    assert first.content_type == "application/pdf"
    assert submission.attachments[1].content_type == "image/jpeg"
    assert first.inline_base64 is None
    assert await store.read("0363", str(first.url)) == sent
    # Nothing of the file content, and the BSN only where the contract keeps it.
    event_text = submission.model_dump_json()
    assert BODY["values"]["bijlage"]["content"] not in event_text
    assert event_text.count(VALID_BSN) == 1


async def test_open_formulieren_retries_are_the_same_submission() -> None:
    """A retry carries a new registration_timestamp: the same event id and fingerprint (the
    hub answers it with the first answer); other values under the same reference are not."""
    retry = copy.deepcopy(BODY)
    retry["metadata"]["registration_timestamp"] = "2026-11-29T09:46:00Z"
    changed = copy.deepcopy(BODY)
    changed["values"]["omschrijving"] = "Iets anders"
    sent = [(await _send(body))[1].published[0] for body in (BODY, retry, changed)]
    assert len({new.event_id for new in sent}) == 1
    assert sent[0].fingerprint == sent[1].fingerprint
    assert sent[0].fingerprint != sent[2].fingerprint


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["metadata"].pop("public_reference"), "metadata.public_reference"),
        (lambda b: b["metadata"].pop("auth_bsn"), "metadata.auth_bsn"),
        (lambda b: b["metadata"].update(auth_bsn="123456789"), "metadata.auth_bsn"),
        (lambda b: b["metadata"].update(auth_type="digid"), "metadata.auth_type"),
        (
            lambda b: b["metadata"].update(registration_timestamp="gisteren"),
            "metadata.registration_timestamp",
        ),
        (lambda b: b["values"]["bijlage"].update(content="not base64!"), "values.bijlage.content"),
        (lambda b: b["values"]["fotos"][0].update(file_name=""), "values.fotos[0].file_name"),
        (lambda b: b.update(extra=1), "extra"),
    ],
)
async def test_what_cannot_be_read_is_named_in_open_formulieren_terms(
    change: Any, field: str
) -> None:
    body = copy.deepcopy(BODY)
    change(body)
    answer, recorded, _ = await _send(body)
    assert answer.status_code == 400, answer.text
    assert field in [p["name"] for p in answer.json()["invalidParams"]]
    assert recorded.published == []


async def test_files_over_the_submission_limit_are_413_and_nothing_is_published() -> None:
    store = MemoryAttachments(max_attachment_bytes=100, max_submission_bytes=150)
    answer, recorded, _ = await _send(BODY, store)
    assert answer.status_code == 413
    assert recorded.published == []


async def test_without_login_and_without_files() -> None:
    body = copy.deepcopy(BODY)
    body["metadata"]["auth_type"] = ""
    del body["metadata"]["auth_bsn"]
    body["values"] = {"naam": "Jan"}
    answer, recorded, _ = await _send(body)
    assert answer.status_code == 202, answer.text
    assert recorded.published[0].payload.authentication.method == "none"
    assert recorded.published[0].payload.attachments == []


async def test_a_body_over_the_limit_names_the_files_limit_open_formulieren_can_act_on() -> None:
    # Was: "send attachments by reference (a URL)", which Open Formulieren cannot do.
    store = MemoryAttachments(max_attachment_bytes=100, max_submission_bytes=150)
    body = copy.deepcopy(BODY)
    body["values"]["groot"] = {"file_name": "groot.pdf", "content": "A" * (2 << 20)}
    answer, recorded, _ = await _send(body, store)
    assert answer.status_code == 413
    detail = answer.json()["detail"]
    assert "room for at most 150 bytes of files (base64 in the body), at most 100 bytes each" in (
        detail
    )
    assert "by reference" not in detail
    assert recorded.published == []
