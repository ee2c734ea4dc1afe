"""The e-forms intake (a push source) passes the shared source conformance suite."""

from __future__ import annotations

import uuid

import pytest

from connectors.eformulieren import SPEC
from connectors.sdk.source_conformance import PushSourceConformance, SourceRequest
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
