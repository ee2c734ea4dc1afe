"""Every upcaster turns each valid payload of its previous version into a valid payload of its
own version that validation leaves unchanged, or refuses it with ContractError (a payload the
new version cannot say). The router relies on it: it reads an upcast payload without validating
it again (contracts.events.payload_as)."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from contracts.cloudevents import CloudEvent
from contracts.errors import ContractError
from contracts.events import build_event, payload_as, read_as
from contracts.registry import CONTRACTS, contract_for
from hub.config import HubConfig
from hub.kafka.topics import TopicNames
from hub.routing.rules import RoutingTable, plan_routing
from tests.samples import VALID_BSN, submission

SUBMITTED = "nl.gemeente.formulier.ingediend"
V1, V2 = contract_for(SUBMITTED, 1), contract_for(SUBMITTED, 2)


def _bsn(eight: str) -> str:
    """``eight`` digits and the check digit that makes them pass the 11-proef, when one does."""
    total = sum(int(digit) * weight for digit, weight in zip(eight, range(9, 1, -1), strict=True))
    check = total % 11
    return eight + str(check) if check < 10 else VALID_BSN


_BSNS = st.text("0123456789", min_size=8, max_size=8).map(_bsn)
_TEXT = st.text(min_size=0, max_size=210)
_LEVELS = st.sampled_from(["basis", "midden", "substantial", "Hoog", "loa2plus", "low", "x"])
_AUTHENTICATION = st.fixed_dictionaries(
    {"method": st.sampled_from(["digid", "eherkenning", "eidas", "none"])},
    optional={
        "bsn": _BSNS,
        "kvk": st.text("0123456789", min_size=8, max_size=8),
        "pseudo_id": _TEXT,
        "acting_subject_id": st.one_of(_BSNS, _TEXT),
        "level_of_assurance": st.one_of(_LEVELS, _TEXT),
        "mandate_services": st.lists(_TEXT, max_size=3),
    },
)
_V1_SUBMISSIONS = st.builds(
    lambda authentication, values: submission(authentication=authentication, values=values),
    _AUTHENTICATION,
    st.dictionaries(st.text(max_size=20), st.one_of(st.none(), st.booleans(), _TEXT), max_size=3),
)

_CATEGORIES = st.sampled_from(
    ["naam", "geboorte", "overlijden", "verblijfplaats", "partnerschap", "gezag"]
)
_V1_CHANGES = st.fixed_dictionaries(
    {
        "wijziging_id": st.uuids().map(str),
        "bsn": _BSNS,
        "gewijzigd": st.lists(_CATEGORIES, min_size=1, max_size=3),
        "geregistreerd_op": st.datetimes(
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=1)), timezone(-timedelta(hours=11))]
            )
        ).map(lambda moment: moment.isoformat()),
    },
    optional={
        "ingangsdatum": st.dates().map(str),
        "volgindicatie_id": st.text(max_size=100),
    },
)

# Per upcaster (type, the version it makes): payloads of the version before it.
CASES: dict[tuple[str, int], st.SearchStrategy[dict[str, Any]]] = {
    (SUBMITTED, 2): _V1_SUBMISSIONS,
    ("nl.gemeente.brp.persoon-gewijzigd", 2): _V1_CHANGES,
}


def test_every_upcaster_has_cases() -> None:
    upcasters = {(s.type, s.version) for s in CONTRACTS if s.upcast_from_previous is not None}
    assert upcasters == set(CASES)


@pytest.mark.parametrize("upcaster", sorted(CASES), ids=lambda case: f"{case[0]}.v{case[1]}")
def test_an_upcast_valid_payload_is_valid_and_as_validation_leaves_it(
    upcaster: tuple[str, int],
) -> None:
    event_type, version = upcaster
    previous, spec = contract_for(event_type, version - 1), contract_for(event_type, version)
    assert spec.upcast_from_previous is not None
    upcast = spec.upcast_from_previous

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
    @given(CASES[upcaster])
    def check(payload: dict[str, Any]) -> None:
        try:
            model = previous.validate(payload, mode="consume")
        except ContractError:
            assume(False)
            return
        try:
            made = upcast(model.model_dump(mode="json", by_alias=True))
        except ContractError:
            return  # a payload the new version cannot say: dead-lettered, never read unchecked
        assert spec.validate(made, mode="consume").model_dump(mode="json", by_alias=True) == made

    check()


def _event(authentication: dict[str, Any]) -> CloudEvent:
    event, _key = build_event(
        V1,
        submission(authentication=authentication),
        tenant="0363",
        source="urn:nld:oin:00000001002564440000:systeem:test",
    )
    return event


def test_with_eherkenning_the_company_is_the_legal_subject_also_when_a_bsn_came_along(
    demo_config: HubConfig,
) -> None:
    # Was: the BSN became the legal subject, which v2 refuses for eHerkenning, so the router
    # dead-lettered a submission that the intake had accepted.
    event = _event({"method": "eherkenning", "kvk": "68750110", "bsn": VALID_BSN})
    model = read_as(event, V2)
    assert model.model_dump(mode="json")["authentication"]["legal_subject"] == {
        "type": "kvk",
        "value": "68750110",
    }
    assert payload_as(event, V2) == model.model_dump(mode="json", by_alias=True)
    names = TopicNames("")
    plan = plan_routing(RoutingTable(demo_config), event, names.contract(V1), names)
    assert plan.dead_letter is None
    assert plan.destinations == ("parkeren", "archief")


@pytest.mark.parametrize(
    ("authentication", "field"),
    [
        ({"method": "eidas", "pseudo_id": ""}, "authentication"),
        ({"method": "none", "acting_subject_id": "someone"}, "authentication.acting_subject_id"),
    ],
)
def test_what_v2_cannot_say_is_refused_by_the_upcaster(
    authentication: dict[str, Any], field: str
) -> None:
    # Valid v1 that no v2 can hold (v1 is frozen: it keeps accepting them). Refused by name, so
    # the router dead-letters them with the cause, as it did when v2's validation refused them.
    event = _event(authentication)
    for read in (read_as, payload_as):
        with pytest.raises(ContractError) as refused:
            read(event, V2)
        assert refused.value.field == field


def test_an_empty_acting_subject_id_names_no_one() -> None:
    event = _event({"method": "digid", "bsn": VALID_BSN, "acting_subject_id": ""})
    assert payload_as(event, V2)["authentication"]["acting_subject"] is None
