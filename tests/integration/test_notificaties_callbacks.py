"""Abonnementen' callbacks (issue 9 part 4), on a real broker with real subscribers
(tests/fakes/nrc_subscriber.py, which refuse anything but the spec's Notificatie): each
subscriber gets its municipality's notificaties and never another's, wildcard filters or not,
with its own Authorization; one sent while the subscriber was down arrives after a hub restart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.config import HubConfig
from hub.runtime.settings import Settings
from tests.conftest import running_hub
from tests.fakes.nrc_subscriber import FakeSubscriber, running_subscriber
from tests.integration.helpers import until, wait_ready
from tests.integration.notificaties_setup import auth, notificatie, nrc_config_data

pytestmark = pytest.mark.kafka


def _config() -> HubConfig:
    data = nrc_config_data()
    data["delivery"] = {"retry_delays": ["1s", "2s", "3s"], "circuit_break": "1s"}
    return HubConfig.model_validate(data)


def _zaken(subscriber: FakeSubscriber, path: str) -> list[dict[str, Any]]:
    """What ``path`` got of kanaal zaken (not the test notificatie of the callback check)."""
    return [n for n in subscriber.notifications(path) if n["kanaal"] == "zaken"]


def _abonnement(subscriber: FakeSubscriber, who: str, **filters: str) -> dict[str, Any]:
    return {
        "callbackUrl": subscriber.url(who),
        "auth": f"Bearer {who}",
        "kanalen": [{"naam": "zaken", "filters": filters}],
    }


async def test_each_subscriber_gets_its_own_municipalitys_notificaties_with_its_auth(
    hub_settings: Settings,
) -> None:
    with running_subscriber() as subscriber:
        async with running_hub(hub_settings, _config()) as (_hub, http):
            await wait_ready(http)
            kanaal = {"naam": "zaken", "filters": ["bronorganisatie", "zaaktype"]}
            made = await http.post("/api/v1/kanaal", json=kanaal, headers=auth("openzaak-0363"))
            assert made.status_code == 201, made.text
            for client, filters in (
                ("zac-0363", {"bronorganisatie": "*"}),
                ("zac-0599", {"bronorganisatie": "*", "zaaktype": "*"}),
            ):
                created = await http.post(
                    "/api/v1/abonnement",
                    json=_abonnement(subscriber, client, **filters),
                    headers=auth(client),
                )
                assert created.status_code == 201, created.text
            sent = {
                tenant: notificatie(bronorganisatie=rsin, zaaktype="https://zaaktypen/1")
                for tenant, rsin in (("0363", "000363000"), ("0599", "000599000"))
            }
            for tenant in ("0363", "0599"):  # one client publishing for both municipalities
                answer = await http.post(
                    "/api/v1/notificaties", json=sent[tenant], headers=auth("openzaak-regio")
                )
                assert answer.status_code == 201, answer.text
            await until(lambda: all(_zaken(subscriber, c) for c in ("zac-0363", "zac-0599")))
            await asyncio.sleep(1.0)  # time for anything misrouted to arrive too
    test_calls = {
        r.path for r in subscriber.received if b'"kanaal":"test"' in r.body.replace(b" ", b"")
    }
    assert test_calls == {"zac-0363", "zac-0599"}  # each callback checked once at creation
    got = {
        c: [n for n in subscriber.notifications(c) if n["kanaal"] == "zaken"] for c in test_calls
    }
    assert got["zac-0363"] == [sent["0363"]]
    assert got["zac-0599"] == [sent["0599"]]
    for callback in subscriber.received:
        assert callback.headers["authorization"] == f"Bearer {callback.path}"


async def test_a_notificatie_sent_while_the_subscriber_was_down_arrives_after_a_restart(
    hub_settings: Settings,
) -> None:
    config = _config()
    with running_subscriber() as first:
        port = first.port
        async with running_hub(hub_settings, config) as (_hub, http):
            await wait_ready(http)
            await http.post("/api/v1/kanaal", json={"naam": "zaken"}, headers=auth("openzaak-0363"))
            created = await http.post(
                "/api/v1/abonnement", json=_abonnement(first, "zac-0363"), headers=auth("zac-0363")
            )
            assert created.status_code == 201, created.text
    # The subscriber is down: the notificatie is accepted and waits in Kafka.
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        sent = notificatie(bronorganisatie="000363000")
        answer = await http.post("/api/v1/notificaties", json=sent, headers=auth("openzaak-0363"))
        assert answer.status_code == 201, answer.text
    # A new hub process, and the subscriber back on its address: it gets the notificatie.
    with running_subscriber(port=port) as back:
        async with running_hub(hub_settings, config) as (_hub, http):
            await wait_ready(http)
            await until(lambda: len(_zaken(back, "zac-0363")) == 1, timeout_s=60)
    assert _zaken(back, "zac-0363") == [sent]
    assert back.received[-1].headers["authorization"] == "Bearer zac-0363"
