"""The e-forms intake (a push source) passes the shared source conformance suite."""

from __future__ import annotations

import uuid

import pytest

from connectors.eformulieren import SPEC
from connectors.eformulieren.source import _EVENT_ID_NAMESPACE, submission_event_id
from connectors.sdk.source_conformance import PushSourceConformance, SourceRequest, _Recorded
from tests.samples import submission

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
