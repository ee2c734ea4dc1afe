"""Every registered contract: its example is valid, survives the envelope, and reads back."""

from __future__ import annotations

import pytest

from contracts.cloudevents import CloudEvent, source_urn
from contracts.events import build_event, read_as, version_of
from contracts.formulier import v1, v2
from contracts.registry import CONTRACTS, ContractSpec, contract_for, is_known_type
from hub.errors import ContractError

SOURCE = source_urn("00000001002564440000", "test")
SUBMISSION_V1 = contract_for("nl.gemeente.formulier.ingediend", 1)
SUBMISSION_V2 = contract_for("nl.gemeente.formulier.ingediend", 2)


@pytest.mark.parametrize("spec", CONTRACTS, ids=lambda s: f"{s.type}-v{s.version}")
def test_every_example_builds_an_event_that_reads_back(spec: ContractSpec) -> None:
    event, key = build_event(spec, spec.example, tenant="0363", source=SOURCE)
    assert spec.accepts(event.type)
    assert key.startswith(b"0363:")
    received = CloudEvent.from_kafka(event.kafka_headers(), event.data)
    assert read_as(received, spec) == spec.validate(spec.example)
    assert version_of(received) == spec.version


def test_zgw_types_follow_open_notificaties() -> None:
    zaken = contract_for("nl.overheid.zaken.status.create")
    event, key = build_event(zaken, zaken.example, tenant="0363", source=SOURCE)
    assert event.type == "nl.overheid.zaken.status.create"
    assert event.subject == "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a"  # the status
    assert key == b"0363:1f6a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"  # ordered per zaak
    assert is_known_type("nl.overheid.zaken")
    assert is_known_type("nl.overheid.zaken.zaak.create")
    assert not is_known_type("nl.overheid.zaken.geen-type")


def test_a_notification_of_another_kanaal_is_refused_on_this_one() -> None:
    zaken = contract_for("nl.overheid.zaken.zaak.create")
    with pytest.raises(ContractError) as caught:
        build_event(zaken, {**zaken.example, "kanaal": "documenten"}, tenant="0363", source=SOURCE)
    assert caught.value.field == "kanaal"


def test_producing_refuses_unknown_fields_consuming_ignores_them() -> None:
    with pytest.raises(ContractError) as caught:
        build_event(SUBMISSION_V1, {**v1.EXAMPLE, "kanaal": "web"}, tenant="0363", source=SOURCE)
    assert caught.value.field == "kanaal"
    assert SUBMISSION_V1.validate({**v1.EXAMPLE, "kanaal": "web"}, mode="consume")


def test_a_v1_event_is_read_by_a_v2_consumer_upcast() -> None:
    payload = {
        **v1.EXAMPLE,
        "authentication": {
            "method": "digid",
            "level_of_assurance": "midden",
            "bsn": "999993653",
            "acting_subject_id": "999990019",
            "mandate_services": ["parkeren"],
        },
    }
    event, _ = build_event(SUBMISSION_V1, payload, tenant="0363", source=SOURCE)
    model = read_as(event, SUBMISSION_V2)
    assert isinstance(model, v2.FormulierIngediend)
    auth = model.authentication
    assert (
        auth.level_of_assurance == "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
    )
    assert auth.legal_subject is not None
    assert (auth.legal_subject.type, auth.legal_subject.value) == ("bsn", "999993653")
    assert auth.acting_subject is not None
    assert auth.acting_subject.type == "bsn"
    assert auth.mandate is not None
    assert auth.mandate.services == ["parkeren"]


def test_an_unknown_level_of_assurance_upcasts_to_none() -> None:
    auth = {"method": "eherkenning", "level_of_assurance": "hoogste", "kvk": "68750110"}
    upcast = v2.upcast_from_v1({**v1.EXAMPLE, "authentication": auth})
    assert upcast["authentication"]["level_of_assurance"] is None
    assert upcast["authentication"]["legal_subject"] == {"type": "kvk", "value": "68750110"}


def test_a_v2_event_is_never_downcast_for_a_v1_consumer() -> None:
    event, _ = build_event(SUBMISSION_V2, v2.EXAMPLE, tenant="0363", source=SOURCE)
    with pytest.raises(ContractError, match="never downcast"):
        read_as(event, SUBMISSION_V1)


def test_the_subject_is_never_a_bsn() -> None:
    with pytest.raises(ContractError) as caught:
        CloudEvent(
            id="1", source=SOURCE, type="nl.a.b", tenant="0363", subject="999993653", data=b"{}"
        )
    assert caught.value.field == "subject"


@pytest.mark.parametrize(
    ("spec", "change", "field"),
    [
        (contract_for("nl.gemeente.brp.persoon-gewijzigd"), {"bsn": "123456789"}, "bsn"),
        (contract_for("nl.gemeente.brp.persoon-gewijzigd"), {"gewijzigd": []}, "gewijzigd"),
        (
            contract_for("nl.gemeente.bericht.verzoek-aangemaakt"),
            {"kanaal": "sms", "ontvanger": {"email": "a@example.nl"}},
            "data",
        ),
        (contract_for("nl.gemeente.aflevering.mislukt"), {"attempts": 0}, "attempts"),
        (SUBMISSION_V2, {"authentication": {"method": "digid"}}, "authentication"),
    ],
    ids=["brp-bad-bsn", "brp-no-category", "sms-without-number", "zero-attempts", "v2-no-subject"],
)
def test_invalid_payloads_name_the_field(
    spec: ContractSpec, change: dict[str, object], field: str
) -> None:
    with pytest.raises(ContractError) as caught:
        build_event(spec, {**spec.example, **change}, tenant="0363", source=SOURCE)
    assert caught.value.field == field


def test_every_contract_model_has_its_own_schema_title() -> None:
    # Two versions' models of the same name made FastStream's AsyncAPI generator warn that one
    # overwrote the other (persoon-gewijzigd v2 did): the document then showed one schema twice.
    models = {spec.model for spec in CONTRACTS}  # the ZGW kanalen share one model: one schema
    titles = [model.model_json_schema()["title"] for model in models]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)
