"""Push destinations made and removed while the hub runs (an abonnement's callback): the delivery
engine takes a new destination topic without a restart, delivers what waited on it, and stops
for a removed one. On a real broker with a real subscriber (tests/fakes/nrc_subscriber.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.kafka.admin import ensure_topics
from hub.runtime.settings import Settings
from tests.conftest import running_hub
from tests.fakes.nrc_subscriber import FakeSubscriber, running_subscriber
from tests.integration.helpers import hub_config, tenant_entry, until, wait_ready
from tests.kafka_reading import produce_raw

pytestmark = pytest.mark.kafka
ZAKEN = contract_for("nl.overheid.zaken.status.create")
AUTH = "Bearer abonnement-1"
SECRETS = {"KNOOPPUNT_ABONNEMENT_AUTH": AUTH}


@pytest.fixture
def subscriber() -> Iterator[FakeSubscriber]:
    with running_subscriber() as fake:
        fake.expect_auth(AUTH)
        yield fake


async def _notify(settings: Settings, destination: str, resource_id: int) -> None:
    payload = {**ZAKEN.example, "resourceUrl": f"https://zaken.example/statussen/{resource_id}"}
    event, key = build_event(
        ZAKEN, payload, tenant="0363", source=source_urn("00000001002564440000", "openzaak")
    )
    topic = settings.topics.destination("0363", destination)
    await produce_raw(
        settings.kafka_bootstrap_servers, topic, event.data, key, event.kafka_headers()
    )


async def test_a_destination_made_at_runtime_gets_what_waited_and_what_comes(
    hub_settings: Settings, subscriber: FakeSubscriber
) -> None:
    config = hub_config([tenant_entry("0363", {"zaken": subscriber.url("static")})], [])
    names = hub_settings.topics
    first, second = "abonnement-1", "abonnement-2"
    async with running_hub(hub_settings, config) as (hub, http):
        await wait_ready(http)
        assert hub.delivery is not None
        await ensure_topics(
            hub_settings.kafka_bootstrap_servers,
            [names.destination("0363", first), names.destination("0363", second)],
            hub_settings.push_partitions,
        )
        await _notify(hub_settings, first, 1)  # on its topic before anyone pushes it
        await asyncio.sleep(1.0)
        assert subscriber.received == []
        settings = {"url": subscriber.url(first), "auth_header_env": "KNOOPPUNT_ABONNEMENT_AUTH"}
        await hub.delivery.push_to("0363", first, "nrc-callback", settings, SECRETS)
        await until(lambda: len(subscriber.notifications(first)) == 1, timeout_s=45)
        await _notify(hub_settings, first, 2)
        await until(lambda: len(subscriber.notifications(first)) == 2)
        assert [s.destination for s in hub.delivery.status()] == ["zaken", first]

        hub.delivery.stop_pushing(names.destination("0363", first))
        await _notify(hub_settings, first, 3)  # no longer pushed: stays on its topic
        other = {**settings, "url": subscriber.url(second)}
        await hub.delivery.push_to("0363", second, "nrc-callback", other, SECRETS)
        await _notify(hub_settings, second, 4)
        await until(lambda: len(subscriber.notifications(second)) == 1, timeout_s=45)
        await asyncio.sleep(1.0)
        assert [s.destination for s in hub.delivery.status()] == ["zaken", second]

    taken = [n["resourceUrl"].rsplit("/", 1)[1] for n in subscriber.notifications(first)]
    assert taken == ["1", "2"]
    assert all(r.headers["authorization"] == AUTH for r in subscriber.received)


async def test_a_destination_appearing_commits_what_was_delivered_before_the_rebalance(
    hub_settings: Settings, subscriber: FakeSubscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new destination topic changes the engine's pattern subscription: aiokafka replaced the
    subscription before the rebalance's revoke callback, whose commit was then refused ("No
    partitions assigned"), and the notificatie delivered just before was delivered again (the
    fresh-clone run of this stop). No periodic commit here: only the revoke callback commits."""
    monkeypatch.setattr("hub.delivery.engine.COMMIT_EVERY_S", 3600.0)
    config = hub_config([tenant_entry("0363", {"zaken": subscriber.url("static")})], [])
    async with running_hub(hub_settings, config) as (hub, http):
        await wait_ready(http)
        assert hub.delivery is not None
        for name, at in (("abonnement-a", "a"), ("abonnement-b", "b")):
            # each topic new to the cluster: the engine's subscription changes, a rebalance
            topic = hub_settings.topics.destination("0363", name)
            await ensure_topics(hub_settings.kafka_bootstrap_servers, [topic], 1)
            settings = {"url": subscriber.url(at), "auth_header_env": "KNOOPPUNT_ABONNEMENT_AUTH"}
            await hub.delivery.push_to("0363", name, "nrc-callback", settings, SECRETS)
            await _notify(hub_settings, name, 1)
            await until(lambda at=at: len(subscriber.notifications(at)) == 1, 30)
        await asyncio.sleep(1.0)  # a redelivery to the first would have come by now
    assert len(subscriber.notifications("a")) == 1
