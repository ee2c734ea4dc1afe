from __future__ import annotations

import pytest

from contracts.registry import contract_for
from hub.errors import ContractError
from tests.samples import INVALID_BSN, submission

SPEC = contract_for("nl.gemeente.formulier.ingediend", 1)


def _field_of(payload: object) -> tuple[str | None, str]:
    with pytest.raises(ContractError) as caught:
        SPEC.validate(payload)
    return caught.value.field, str(caught.value)


def test_a_realistic_submission_is_valid() -> None:
    model = SPEC.validate(submission())
    assert model.model_dump()["form"]["id"] == "parkeervergunning"


def test_a_bsn_failing_the_elfproef_names_the_field() -> None:
    auth = {"method": "digid", "bsn": INVALID_BSN}
    field, message = _field_of(submission(authentication=auth))
    assert field == "authentication.bsn"
    assert "11-proef" in message
    assert INVALID_BSN not in message  # the error never echoes the number


def test_an_unknown_authentication_method_names_the_field() -> None:
    field, message = _field_of(submission(authentication={"method": "facebook"}))
    assert field == "authentication.method"
    assert "digid" in message


def test_a_missing_required_field_is_named() -> None:
    body = submission()
    del body["reference"]
    assert _field_of(body)[0] == "reference"


def test_digid_needs_a_bsn_and_none_carries_no_identifier() -> None:
    assert "needs 'bsn'" in _field_of(submission(authentication={"method": "digid"}))[1]
    anonymous = {"method": "none", "bsn": "999993653"}
    assert "carries no" in _field_of(submission(authentication=anonymous))[1]


def test_unknown_fields_are_refused_at_the_edge() -> None:
    assert _field_of(submission(extra_field=1))[0] == "extra_field"
