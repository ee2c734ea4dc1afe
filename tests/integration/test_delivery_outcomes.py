"""Every delivery's outcome is an event (issue 10: ``nl.gemeente.aflevering.geslaagd`` with what
the back office returned, ``nl.gemeente.aflevering.mislukt`` on a dead letter), routable like
any other, and the delivery of an outcome reports none of its own (no loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest

from contracts.registry import contract_for
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.integration.helpers import form_route, hub_config, tenant_entry, until, wait_ready
from tests.kafka_reading import read_topics
from tests.samples import VALID_BSN, submission

pytestmark = pytest.mark.kafka
AUTH = {"Authorization": f"Bearer {demo_token()}"}
DELIVERED = contract_for("nl.gemeente.aflevering.geslaagd", 1)
FAILED = contract_for("nl.gemeente.aflevering.mislukt", 1)


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


async def test_a_delivery_and_a_dead_letter_are_each_an_outcome_event_and_routable(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    backoffice.script("weigert", status=400)  # refuses every event: a dead letter at once
    config = hub_config(
        [
            tenant_entry(
                "0363",
                {
                    "zaken": backoffice.url("zaken"),
                    "weigert": backoffice.url("weigert"),
                    "monitor": backoffice.url("monitor"),
                },
            )
        ],
        [
            form_route("0363", "aanvraag", ["zaken", "weigert"]),
            {"tenant": "0363", "contract": DELIVERED.type, "to": ["monitor"]},
            {"tenant": "0363", "contract": FAILED.type, "to": ["monitor"]},
        ],
    )
    names = hub_settings.topics
    outcome_topics = [names.contract(DELIVERED), names.contract(FAILED)]
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        body = submission("aanvraag", reference="OF-7TZ2QX")
        sent = await http.post("/api/v1/tenants/0363/submissions", json=body, headers=AUTH)
        assert sent.status_code == 202
        await until(lambda: len(backoffice.accepted("monitor")) == 2)
        await asyncio.sleep(1.5)  # an outcome of the monitor's own deliveries would show now
        records = await read_topics(
            hub_settings.kafka_bootstrap_servers, outcome_topics, expect=2, settle_s=1.0
        )
    outcomes = {record.topic: orjson.loads(record.value) for record in records}
    assert len(records) == 2  # none for the two deliveries to "monitor": no loop
    delivered = outcomes[names.contract(DELIVERED)]
    zaak = backoffice.accepted("zaken")[0]
    assert delivered["event_id"] == sent.json()["id"]
    assert delivered["destination"] == "zaken"
    assert delivered["public_reference"] == "OF-7TZ2QX"
    assert delivered["attempts"] == 1
    assert delivered["reference"].startswith(backoffice.url("zaken") + "/zaken/")
    assert zaak.body is not None
    failed = outcomes[names.contract(FAILED)]
    assert failed["event_id"] == sent.json()["id"]
    assert failed["destination"] == "weigert"
    assert failed["permanent"] is True
    assert "400" in failed["error_message"]
    for outcome in outcomes.values():
        assert VALID_BSN not in orjson.dumps(outcome).decode()
    monitored = sorted(r.body["type"] for r in backoffice.accepted("monitor") if r.body)
    assert monitored == ["nl.gemeente.aflevering.geslaagd", "nl.gemeente.aflevering.mislukt"]
