"""The e-forms intake (a push source) passes the shared source conformance suite."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from connectors.eformulieren import SPEC
from connectors.eformulieren.source import _EVENT_ID_NAMESPACE, submission_event_id
from connectors.sdk.source_conformance import (
    MemoryAttachments,
    PushSourceConformance,
    SourceRequest,
    _Recorded,
)
from tests.samples import VALID_BSN, submission

_IDS = [str(uuid.uuid4()) for _ in range(3)]


def _valid(number: int) -> SourceRequest:
    body = submission(submission_id=_IDS[number])
    return SourceRequest("/api/v1/tenants/0363/submissions", body)


CONFORMANCE = PushSourceConformance(
    spec=SPEC,
    valid=_valid,
    violation=(
        submission(authentication={"method": "digid", "bsn": "123456789"}),
        "authentication.bsn",
    ),
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


async def test_the_callers_traceparent_travels_with_the_event_and_a_bad_one_is_replaced() -> None:
    valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    recorded = _Recorded()
    for traceparent in (valid, "00-not-a-trace-01"):
        answer = await CONFORMANCE.send(recorded, _valid(0), traceparent=traceparent)
        assert answer.status_code == 202, answer.text
    kept, replaced = (new.traceparent for new in recorded.published)
    assert kept == valid
    assert replaced is not None
    assert replaced != "00-not-a-trace-01"
    assert replaced.startswith("00-")


async def test_every_field_that_breaks_the_contract_is_named() -> None:
    recorded = _Recorded()
    body = submission(language=7, reference=None)
    answer = await CONFORMANCE.send(
        recorded, SourceRequest("/api/v1/tenants/0363/submissions", body)
    )
    assert answer.status_code == 400
    names = {param["name"] for param in answer.json()["invalidParams"]}
    assert {"language", "reference"} <= names
    assert recorded.published == []


@pytest.mark.parametrize("client", ["demo-eformulieren", "e-formulieren-ä", ""])
def test_the_event_id_is_the_uuid5_of_tenant_client_and_submission(client: str) -> None:
    submission_id = uuid.uuid4()
    expected = uuid.uuid5(_EVENT_ID_NAMESPACE, f"0363:{client}:{submission_id}")
    assert submission_event_id("0363", client, submission_id) == str(expected)


def _other_digits(ascii_digits: str, zero: str) -> str:
    """The same number in another script's digits (zero: that script's 0)."""
    return "".join(chr(ord(zero) + int(digit)) for digit in ascii_digits)


_FULL_WIDTH, _ARABIC_INDIC = "\uff10", "\u0660"
_V1, _V2 = "/api/v1/tenants/0363/submissions", "/api/v2/tenants/0363/submissions"


def _v2_subject(kind: str, value: str, method: str) -> dict[str, Any]:
    return submission(
        authentication={"method": method, "legal_subject": {"type": kind, "value": value}}
    )


# Every place an identifier (or an ASCII-only pattern) arrives at the intake.
_NOT_ASCII = [
    (
        _V1,
        lambda d: submission(authentication={"method": "digid", "bsn": d(VALID_BSN)}),
        "authentication.bsn",
    ),
    (
        _V1,
        lambda d: submission(authentication={"method": "eherkenning", "kvk": d("69599084")}),
        "authentication.kvk",
    ),
    (_V2, lambda d: _v2_subject("bsn", d(VALID_BSN), "digid"), "authentication.legal_subject"),
    (
        _V2,
        lambda d: _v2_subject("kvk", d("69599084"), "eherkenning"),
        "authentication.legal_subject",
    ),
    (
        _V2,
        lambda d: _v2_subject("rsin", d("002564440"), "eherkenning"),
        "authentication.legal_subject",
    ),
    (
        _V1,
        lambda d: submission(attachments=[_attachment(f"application/pdf{d('1')}")]),
        "attachments[0].content_type",
    ),
]


def _attachment(content_type: str) -> dict[str, Any]:
    return {
        "url": "https://eformulieren.example/bijlagen/1",
        "name": "aanvraag.pdf",
        "content_type": content_type,
        "size": 10,
        "sha256": "0" * 64,
    }


@pytest.mark.parametrize("zero", [_FULL_WIDTH, _ARABIC_INDIC], ids=["full-width", "arabic-indic"])
@pytest.mark.parametrize(
    ("path", "body_with", "field"),
    _NOT_ASCII,
    ids=["v1-bsn", "v1-kvk", "v2-bsn", "v2-kvk", "v2-rsin", "v1-content-type"],
)
async def test_identifiers_take_ascii_digits_only(
    zero: str, path: str, body_with: Callable[[Callable[[str], str]], dict[str, Any]], field: str
) -> None:
    """Issue 8: "９９９９９３６５３" was accepted as a BSN and passed on as is (\\d matches any
    script's digits). Now 400 naming the field, and nothing published."""
    recorded = _Recorded()
    body = body_with(lambda digits: _other_digits(digits, zero))
    answer = await CONFORMANCE.send(recorded, SourceRequest(path, body))
    assert answer.status_code == 400, answer.text
    assert field in {param["name"] for param in answer.json()["invalidParams"]}
    assert recorded.published == []
    # The same body in ASCII digits is accepted: the refusal is about the digits alone.
    answer = await CONFORMANCE.send(recorded, SourceRequest(path, body_with(lambda d: d)))
    assert answer.status_code == 202, answer.text


def _limited() -> PushSourceConformance:
    attachments = MemoryAttachments(max_attachment_bytes=1000, max_submission_bytes=1500)
    return PushSourceConformance(
        spec=SPEC, valid=_valid, violation=CONFORMANCE.violation, attachments=attachments
    )


@pytest.mark.parametrize("path", [_V1, _V2], ids=["v1", "v2"])
@pytest.mark.parametrize(
    ("sizes", "named"),
    [
        ([1001], "attachments[0]: an attachment may be at most 1000 bytes (its size is 1001)"),
        ([800, 800], "at most 1500 bytes together (their sizes add up to 1600)"),
    ],
    ids=["one-too-large", "together-too-large"],
)
async def test_attachments_by_reference_are_held_to_the_limits_of_stored_ones(
    path: str, sizes: list[int], named: str
) -> None:
    # Was: 202 for a reference declaring 10,000,000,000 bytes.
    references = [{**_attachment("application/pdf"), "size": size} for size in sizes]
    body = submission(attachments=references)
    if path == _V2:
        body = {**_v2_subject("bsn", VALID_BSN, "digid"), "attachments": references}
    recorded = _Recorded()
    answer = await _limited().send(recorded, SourceRequest(path, body))
    assert answer.status_code == 413, answer.text
    assert named in answer.json()["detail"]
    assert recorded.published == []
    within = [{**_attachment("application/pdf"), "size": 700}] * 2
    body = submission(attachments=within)
    answer = await _limited().send(recorded, SourceRequest(_valid(0).path, body))
    assert answer.status_code == 202, answer.text


@pytest.mark.parametrize(
    ("inline", "reason"),
    [
        (base64.b64encode(b"abc").decode(), "SHA-256"),  # the sha256 given is "0" * 64
        ("not base64!", "not valid base64"),
    ],
)
async def test_an_inline_file_must_be_the_file_its_size_and_sha256_describe(
    inline: str, reason: str
) -> None:
    # Was: 202 for inline "abc" with another file's sha256.
    attachment = {**_attachment("text/plain"), "size": 3, "inline_base64": inline}
    recorded = _Recorded()
    answer = await CONFORMANCE.send(
        recorded, SourceRequest(_valid(0).path, submission(attachments=[attachment]))
    )
    assert answer.status_code == 400, answer.text
    [param] = answer.json()["invalidParams"]
    assert param["name"] == "attachments[0].inline_base64"
    assert reason in param["reason"]
    right = {**attachment, "sha256": hashlib.sha256(b"abc").hexdigest()}
    right["inline_base64"] = base64.b64encode(b"abc").decode()
    answer = await CONFORMANCE.send(
        recorded, SourceRequest(_valid(1).path, submission(attachments=[right]))
    )
    assert answer.status_code == 202, answer.text
