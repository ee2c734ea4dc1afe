from __future__ import annotations

import orjson
import pytest

from contracts.cloudevents import CloudEvent
from hub.config import HubConfig, Route
from hub.errors import UnroutedError
from hub.kafka.topics import TopicNames
from hub.routing.rules import RoutableEvent, destinations_for, plan_routing, route_matches
from tests.samples import submission

TYPE = "nl.gemeente.formulier.ingediend"
TOPIC = f"{TYPE}.v1"
OIN = "00000001002564440000"


def _r(tenant: str, event_type: str, payload: object, version: int = 1) -> RoutableEvent:
    return RoutableEvent(tenant, event_type, version, payload)


def _event(payload: object, tenant: str = "0363", event_type: str = TYPE) -> CloudEvent:
    return CloudEvent(
        id="e1",
        source=f"urn:nld:oin:{OIN}:systeem:test",
        type=event_type,
        tenant=tenant,
        data=orjson.dumps(payload),
    )


def test_route_without_conditions_matches_its_tenant_and_type_only() -> None:
    route = Route(tenant="0363", contract=TYPE, to=["zaaksysteem"])
    assert route_matches(route, _r("0363", TYPE, {}))
    assert not route_matches(route, _r("0599", TYPE, {}))
    assert not route_matches(route, _r("0363", "nl.gemeente.iets.anders", {}))


def test_condition_on_a_dotted_path_with_one_value_or_a_list() -> None:
    one = Route(tenant="0363", contract=TYPE, when={"form.id": "a"}, to=["x"])
    many = Route(tenant="0363", contract=TYPE, when={"form.id": ["a", "b"]}, to=["x"])
    assert route_matches(one, _r("0363", TYPE, {"form": {"id": "a"}}))
    assert not route_matches(one, _r("0363", TYPE, {"form": {"id": "b"}}))
    assert route_matches(many, _r("0363", TYPE, {"form": {"id": "b"}}))
    assert not route_matches(many, _r("0363", TYPE, {"form": {}}))
    assert not route_matches(many, _r("0363", TYPE, {"form": "a"}))


def test_fan_out_names_each_destination_once_in_route_order() -> None:
    routes = [
        Route(tenant="0363", contract=TYPE, when={"form.id": "a"}, to=["parkeren", "archief"]),
        Route(tenant="0363", contract=TYPE, to=["archief", "zaaksysteem"]),
        Route(tenant="0599", contract=TYPE, to=["elders"]),
    ]
    payload = {"form": {"id": "a"}}
    assert destinations_for(routes, _r("0363", TYPE, payload)) == [
        "parkeren",
        "archief",
        "zaaksysteem",
    ]
    assert destinations_for(routes, _r("0363", TYPE, {"form": {"id": "z"}})) == [
        "archief",
        "zaaksysteem",
    ]


def test_plan_for_the_demo_config(demo_config: HubConfig) -> None:
    names = TopicNames()
    plan = plan_routing(demo_config, _event(submission("parkeervergunning")), TOPIC, names)
    assert plan.destinations == ("parkeren", "archief")
    unrouted = plan_routing(demo_config, _event(submission("geen-route")), TOPIC, names)
    assert unrouted.unrouted
    assert unrouted.dead_letter is None


@pytest.mark.parametrize(
    ("event", "topic", "field"),
    [
        (_event(submission(), tenant="9999"), TOPIC, "ce_tenant"),
        (_event({"form": {"id": "x"}}), TOPIC, "submission_id"),
        (_event(submission(), event_type="nl.gemeente.onbekend.gebeurd"), TOPIC, "type"),
        (_event(submission()), "nl.gemeente.formulier.ingediend.v7", "type"),
    ],
    ids=["unknown-tenant", "invalid-payload", "unknown-type", "unknown-version"],
)
def test_events_that_break_their_contract_are_dead_lettered_with_the_field(
    demo_config: HubConfig, event: CloudEvent, topic: str, field: str
) -> None:
    plan = plan_routing(demo_config, event, topic, TopicNames())
    assert plan.dead_letter is not None
    assert plan.dead_letter.field == field
    assert plan.destinations == ()


def test_an_event_on_another_installations_topic_is_refused(demo_config: HubConfig) -> None:
    plan = plan_routing(demo_config, _event(submission()), TOPIC, TopicNames("acc."))
    assert plan.dead_letter is not None


def test_conditions_are_written_against_the_newest_version(demo_config: HubConfig) -> None:
    """A v1 event is upcast before matching, so a route names v2 fields only."""
    routes = [
        Route(
            tenant="0363",
            contract=TYPE,
            when={"authentication.legal_subject.type": "kvk"},
            to=["zaaksysteem"],
        )
    ]
    config = demo_config.model_copy(update={"routes": routes})
    company = submission(authentication={"method": "eherkenning", "kvk": "68750110"})
    event = _event(company)
    assert plan_routing(config, event, TOPIC, TopicNames()).destinations == ("zaaksysteem",)
    assert plan_routing(config, _event(submission()), TOPIC, TopicNames()).unrouted


def test_a_family_prefix_route_takes_every_type_of_the_family() -> None:
    route = Route(tenant="0363", contract="nl.overheid.zaken", to=["x"])
    assert route_matches(route, _r("0363", "nl.overheid.zaken.status.create", {}))
    assert not route_matches(route, _r("0363", "nl.overheid.zakenarchief.zaak.create", {}))


def test_a_route_can_be_limited_to_versions() -> None:
    route = Route(tenant="0363", contract=TYPE, versions=[2], to=["x"])
    assert route_matches(route, _r("0363", TYPE, {}, version=2))
    assert not route_matches(route, _r("0363", TYPE, {}, version=1))


def test_a_tenant_can_dead_letter_unrouted_events(demo_config: HubConfig) -> None:
    strict = demo_config.tenants[0].model_copy(update={"unrouted": "dead-letter"})
    config = demo_config.model_copy(update={"tenants": [strict, *demo_config.tenants[1:]]})
    plan = plan_routing(config, _event(submission("geen-route")), TOPIC, TopicNames())
    assert isinstance(plan.dead_letter, UnroutedError)


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        (True, True, True),
        (True, 1, False),  # issue 7: `spoed: true` matched a payload with `spoed: 1`
        (1, True, False),  # and `aantal: 1` matched `true`
        (0, False, False),
        (False, 0, False),
        (1, 1.0, True),  # one JSON number
        ("1", 1, False),
        (1, "1", False),
        ([True, "ja"], 1, False),
        ([1, 2], 2, True),
        (None, None, True),  # a route may test for null
        (None, 0, False),
        (None, False, False),
        ("", None, False),
    ],
)
def test_conditions_compare_by_json_type(expected: object, actual: object, matches: bool) -> None:
    route = Route.model_validate(
        {"tenant": "0363", "contract": TYPE, "when": {"values.x": expected}, "to": ["x"]}
    )
    assert route_matches(route, _r("0363", TYPE, {"values": {"x": actual}})) is matches
