"""The Notificaties API's pure decisions: Open Notificaties' filter matching (examples from its
own tests, and properties), the key normalisation, filter names against a kanaal, tenants."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.notificaties.domain import Abonnement, Kanaal, KanaalFilter, RecordError
from hub.notificaties.matching import (
    delivers,
    filter_names_consistent,
    filters_match,
    kenmerk_key,
    matches,
)
from hub.notificaties.tenancy import TenantRefusedError, may_see, tenant_of_notificatie

KENMERKEN = {
    "bron": "082096752011",
    "vertrouwelijkheidaanduiding": "openbaar",
    "zaaktype": "example.com/api/v1",
}


def _abonnement(tenants: tuple[str, ...] = ("0363",), **groups: dict[str, str]) -> Abonnement:
    return Abonnement(
        uuid.uuid4(),
        tenants,
        "https://zac.example/callback",
        "Bearer x",
        tuple(KanaalFilter(naam, filters) for naam, filters in groups.items()),
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {
                "bron": "082096752011",
                "zaaktype": "example.com/api/v1",
                "vertrouwelijkheidaanduiding": "*",
            },
            True,
        ),
        ({"bron": "082096752011"}, True),  # fewer filters than kenmerken
        ({"bron": "13", "zaaktype": "example.com/api/v1"}, False),  # one value differs
        (
            {"bron": "082096752011", "onbekend": "x"},
            True,
        ),  # a key the message lacks excludes nothing
        ({}, True),
        ({"vertrouwelijkheidaanduiding": "Openbaar"}, False),  # values compare exactly
        ({"Bron": "082096752011"}, True),  # keys as Open Notificaties reads them: lowercased
    ],
)
def test_open_notificaties_filter_examples(filters: dict[str, str], expected: bool) -> None:
    assert filters_match(filters, KENMERKEN) is expected


def test_keys_are_compared_as_open_notificaties_rewrites_them() -> None:
    assert kenmerk_key("zaak_type") == kenmerk_key("zaakType") == "zaakType"
    assert kenmerk_key("BSN") == "bsn"
    assert kenmerk_key("zaaktype") != kenmerk_key("zaak_type")
    assert kenmerk_key("zaaktype.catalogus") == "zaaktype.catalogus"
    assert filters_match({"zaak_type": "a"}, {"zaakType": "b"}) is False


def test_an_abonnement_matches_through_any_group_and_delivers_only_to_its_tenants() -> None:
    abonnement = _abonnement(zaken={"bron": "1"}, documenten={})
    assert matches(abonnement, "zaken", {"bron": "1"})
    assert not matches(abonnement, "zaken", {"bron": "2"})
    assert matches(abonnement, "documenten", {"bron": "2"})
    assert not matches(abonnement, "besluiten", {})
    assert delivers(abonnement, "0363", "zaken", {"bron": "1"})
    wildcard = _abonnement(zaken={"bronorganisatie": "*"})
    assert not delivers(wildcard, "0599", "zaken", {"bronorganisatie": "000599000"})


keys = st.sampled_from(["bron", "zaaktype", "vertrouwelijkheidaanduiding", "zaak_type", "x"])
values = st.text(min_size=1, max_size=5)


@given(st.dictionaries(keys, values), st.dictionaries(keys, values))
def test_wildcards_and_absent_keys_never_exclude(
    filters: dict[str, str], kenmerken: dict[str, str]
) -> None:
    everything = dict.fromkeys(filters, "*")
    assert filters_match(everything, kenmerken)
    absent = {
        key: value
        for key, value in filters.items()
        if kenmerk_key(key) not in {kenmerk_key(k) for k in kenmerken}
    }
    assert filters_match(absent, kenmerken)
    assert filters_match({}, kenmerken)


@given(st.dictionaries(keys, values), st.dictionaries(keys, values), st.data())
def test_fewer_filters_never_match_less(
    filters: dict[str, str], kenmerken: dict[str, str], data: st.DataObject
) -> None:
    fewer = data.draw(st.sets(st.sampled_from(sorted(filters))) if filters else st.just(set()))
    if filters_match(filters, kenmerken):
        assert filters_match({key: filters[key] for key in fewer}, kenmerken)


@given(st.dictionaries(keys, values))
def test_a_message_always_matches_filters_copied_from_its_own_kenmerken(
    kenmerken: dict[str, str],
) -> None:
    assert filters_match(dict(kenmerken), kenmerken)


def test_filter_names_are_all_or_some_of_the_kanaals() -> None:
    declared = ["bronorganisatie", "zaaktype", "vertrouwelijkheidaanduiding"]
    assert filter_names_consistent(declared, ["bronorganisatie"])
    assert filter_names_consistent(declared, [*declared, "extra"])  # all of them, and more
    assert not filter_names_consistent(declared, ["bronorganisatie", "extra"])
    assert filter_names_consistent([], ["anything"])


def test_a_notificatie_belongs_to_its_single_tenant_client_whatever_its_bronorganisatie() -> None:
    assert (
        tenant_of_notificatie(["0363"], {"0363": "000363000"}, {"bronorganisatie": "1"}) == "0363"
    )


def test_a_client_of_several_tenants_names_one_by_its_rsin() -> None:
    rsins = {"0363": "000363000", "0599": "000599000", "0014": "000014000"}
    assert (
        tenant_of_notificatie(["0363", "0599"], rsins, {"bronorganisatie": "000599000"}) == "0599"
    )
    with pytest.raises(TenantRefusedError) as missing:
        tenant_of_notificatie(["0363", "0599"], rsins, {})
    assert (missing.value.field, missing.value.code) == ("kenmerken.bronorganisatie", "required")
    with pytest.raises(TenantRefusedError) as others:  # a tenant of the hub, not the client's
        tenant_of_notificatie(["0363", "0599"], rsins, {"bronorganisatie": "000014000"})
    with pytest.raises(TenantRefusedError) as unknown:
        tenant_of_notificatie(["0363", "0599"], rsins, {"bronorganisatie": "999999999"})
    assert others.value == unknown.value  # nothing told about the hub's other tenants


def test_an_abonnement_is_seen_only_by_clients_of_all_its_tenants() -> None:
    abonnement = _abonnement(("0363", "0599"))
    assert may_see(["0363", "0599"], abonnement)
    assert may_see(["0014", "0363", "0599"], abonnement)
    # A client of one of them could otherwise point it at its own callback and get the
    # other municipality's notificaties (found by a new user's trial).
    assert not may_see(["0599"], abonnement)
    assert not may_see(["0014"], abonnement)
    assert may_see(["0599"], _abonnement(("0599",)))


def test_records_round_trip_and_foreign_ones_are_refused() -> None:
    abonnement = _abonnement(zaken={"bron": "1"})
    assert Abonnement.from_record(*abonnement.record()) == abonnement
    kanaal = Kanaal("zaken", "https://example.org", ("bron",))
    assert Kanaal.from_record(*kanaal.record()) == kanaal
    assert kanaal.id == Kanaal("zaken").id  # derived from the name: the same everywhere
    key, value = abonnement.record()
    with pytest.raises(RecordError):
        Abonnement.from_record(b"another-key", value)
    with pytest.raises(RecordError):
        Abonnement.from_record(key, b'{"id": 1}')
    with pytest.raises(RecordError):
        Kanaal.from_record(b"besluiten", kanaal.record()[1])
