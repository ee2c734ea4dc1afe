"""Delivery that loses nothing, on a real broker with real HTTP back offices (FakeBackOffice)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.integration.helpers import (
    form_route,
    hub_config,
    metric_value,
    tenant_entry,
    until,
    wait_ready,
)
from tests.integration.processes import hub_env, knooppunt
from tests.kafka_reading import produce_raw, read_topics
from tests.samples import VALID_BSN, submission

pytestmark = pytest.mark.kafka
TYPE = "nl.gemeente.formulier.ingediend"
AUTH = {"Authorization": f"Bearer {demo_token()}"}


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


async def test_fan_out_reaches_three_destinations_exactly_once(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    config = hub_config(
        [
            tenant_entry(
                "0363",
                {"zaken": backoffice.url("zaken"), "crm": backoffice.url("crm"), "archief": None},
            )
        ],
        [form_route("0363", "aanvraag", ["zaken", "crm", "archief"])],
    )
    names = hub_settings.topics
    topics = [names.destination("0363", d) for d in ("zaken", "crm", "archief")]
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        sent = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("aanvraag"), headers=AUTH
        )
        none = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("ander"), headers=AUTH
        )
        assert sent.status_code == none.status_code == 202
        copies = await read_topics(hub_settings.kafka_bootstrap_servers, topics, 3, settle_s=2.0)
        await until(lambda: backoffice.accepted("zaken") and backoffice.accepted("crm"))
        await asyncio.sleep(1.0)  # a second delivery would show up by now
        exposition = (await http.get("/metrics")).text
    assert sorted(r.topic for r in copies) == sorted(topics)
    assert {dict(r.headers)["ce_id"].decode() for r in copies} == {sent.json()["id"]}
    for name in ("zaken", "crm"):
        received = backoffice.received(name)
        assert len(received) == 1
        assert received[0].body is not None
        assert received[0].body["id"] == sent.json()["id"]
        assert received[0].body["data"]["form"]["id"] == "aanvraag"
    assert (
        backoffice.received("zaken")[0].idempotency_key
        != backoffice.received("crm")[0].idempotency_key
    )
    assert metric_value(exposition, "knooppunt_events_unrouted_total", tenant="0363") == 1.0
    assert (
        metric_value(
            exposition,
            "knooppunt_deliveries_total",
            tenant="0363",
            destination="zaken",
            outcome="delivered",
        )
        == 1.0
    )


async def test_a_failing_back_office_delays_only_itself(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    backoffice.script("slow", fail_first=3, fail_status=503)
    config = hub_config(
        [
            tenant_entry("0363", {"slow": backoffice.url("slow"), "fast": backoffice.url("fast")}),
            tenant_entry("0599", {"other": backoffice.url("other")}),
        ],
        [
            form_route("0363", "traag", ["slow"]),
            form_route("0363", "snel", ["fast"]),
            form_route("0599", "snel", ["other"]),
        ],
    )
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        slow = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("traag"), headers=AUTH
        )
        assert slow.status_code == 202
        await until(lambda: len(backoffice.received("slow")) >= 1)
        # While the slow back office is failing, its neighbours keep flowing.
        for tenant in ("0363", "0599"):
            for _ in range(5):
                sent = await http.post(
                    f"/api/v1/tenants/{tenant}/submissions", json=submission("snel"), headers=AUTH
                )
                assert sent.status_code == 202
        await until(lambda: len(backoffice.accepted("slow")) == 1, timeout_s=60)
        exposition = (await http.get("/metrics")).text
    slow_done = backoffice.accepted("slow")[0].at
    neighbours = backoffice.accepted("fast") + backoffice.accepted("other")
    assert len(neighbours) == 10
    assert all(r.at < slow_done for r in neighbours)  # all done before the slow one succeeded
    attempts = backoffice.received("slow")
    assert [r.status for r in attempts] == [503, 503, 503, 201]
    assert len({r.idempotency_key for r in attempts}) == 1  # one key on every attempt
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.9  # the first retry tier's delay (1s) was kept
    assert (
        metric_value(
            exposition,
            "knooppunt_deliveries_total",
            tenant="0363",
            destination="slow",
            outcome="retry",
        )
        == 3.0
    )


async def test_a_rejected_event_is_dead_lettered_and_replayed_after_the_fix(
    hub_settings: Settings, backoffice: FakeBackOffice, tmp_path: Path
) -> None:
    backoffice.script("zaken", status=400)
    config = hub_config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        [form_route("0363", "aanvraag", ["zaken"])],
    )
    dlq = hub_settings.topics.dead_letter("0363")
    env = hub_env(hub_settings)
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        sent = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("aanvraag"), headers=AUTH
        )
        letters = await read_topics(hub_settings.kafka_bootstrap_servers, [dlq], 1)
        assert len(letters) == 1
        headers = {k: v.decode() for k, v in letters[0].headers}
        listed = await asyncio.to_thread(knooppunt, env, "dlq", "list", "--tenant", "0363")
        shown = await asyncio.to_thread(
            knooppunt,
            env,
            "dlq",
            "show",
            "--tenant",
            "0363",
            f"{letters[0].partition}:{letters[0].offset}",
        )
        # Replayed while the back office still rejects it: back in dead letters, not lost.
        early = await asyncio.to_thread(knooppunt, env, "dlq", "replay", "--tenant", "0363")
        assert early.returncode == 0, early.stderr
        again = await read_topics(hub_settings.kafka_bootstrap_servers, [dlq], 2)
        assert len(again) == 2
        newest = max(again, key=lambda r: r.timestamp)
        assert dict(newest.headers)["ce_id"] == dict(letters[0].headers)["ce_id"]
        backoffice.script("zaken", status=201)  # the back office is fixed
        replayed = await asyncio.to_thread(
            knooppunt,
            env,
            "dlq",
            "replay",
            "--tenant",
            "0363",
            "--offset",
            f"{newest.partition}:{newest.offset}",
        )
        await until(lambda: len(backoffice.accepted("zaken")) == 1)
    assert headers["ce_id"] == sent.json()["id"]
    assert headers["knooppunt_error_class"] == "DeliveryError"
    assert headers["knooppunt_error_status"] == "400"
    assert "400" in headers["knooppunt_error_message"]
    assert headers["knooppunt_attempts"] == "1"
    assert headers["knooppunt_destination"] == "zaken"
    assert headers["knooppunt_first_failure"]
    assert headers["knooppunt_last_failure"]
    assert headers["knooppunt_original_topic"] == hub_settings.topics.destination("0363", "zaken")
    assert headers["knooppunt_original_partition"].isdigit()
    assert headers["knooppunt_original_offset"] == "0"
    assert listed.returncode == 0, listed.stderr
    assert "1 dead letter(s) for tenant 0363" in listed.stdout
    assert "DeliveryError 400" in listed.stdout
    assert shown.returncode == 0, shown.stderr
    assert orjson.loads(shown.stdout)["headers"]["knooppunt_destination"] == "zaken"
    assert VALID_BSN not in shown.stdout  # the payload's BSN is redacted
    assert replayed.returncode == 0, replayed.stderr
    assert "1 dead letter(s) replayed" in replayed.stdout
    first, rejected_again, fixed = backoffice.received("zaken")
    assert (first.status, rejected_again.status, fixed.status) == (400, 400, 201)
    assert first.idempotency_key == rejected_again.idempotency_key == fixed.idempotency_key


async def test_an_event_on_another_tenants_topic_is_quarantined_not_delivered(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    config = hub_config(
        [
            tenant_entry("0363", {"zaken": backoffice.url("zaken")}),
            tenant_entry("0599", {"zaken": None}),
        ],
        [],
    )
    spec = contract_for(TYPE, 1)
    event, key = build_event(spec, submission(), tenant="0599", source=source_urn("0" * 20, "x"))
    names = hub_settings.topics
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        await produce_raw(
            hub_settings.kafka_bootstrap_servers,
            names.destination("0363", "zaken"),
            event.data,
            key,
            event.kafka_headers(),
        )
        quarantined = await read_topics(
            hub_settings.kafka_bootstrap_servers, [names.dead_letter("quarantine")], 1
        )
        exposition = (await http.get("/metrics")).text
    assert len(quarantined) == 1
    assert dict(quarantined[0].headers)["knooppunt_error_class"] == b"TenantMismatchError"
    assert backoffice.received("zaken") == []
    assert metric_value(exposition, "knooppunt_events_quarantined_total", tenant="0363") == 1.0


async def test_every_failed_attempt_is_recorded_in_the_dead_letter_and_in_metrics(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    backoffice.script("zaken", fail_first=2, fail_status=503, status=400)
    config = hub_config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        [form_route("0363", "aanvraag", ["zaken"])],
    )
    dlq = hub_settings.topics.dead_letter("0363")
    async with running_hub(hub_settings, config) as (_hub, http):
        await wait_ready(http)
        sent = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("aanvraag"), headers=AUTH
        )
        assert sent.status_code == 202
        letters = await read_topics(hub_settings.kafka_bootstrap_servers, [dlq], 1, timeout_s=60)
        exposition = (await http.get("/metrics")).text
        shown = await asyncio.to_thread(
            knooppunt,
            hub_env(hub_settings),
            "dlq",
            "show",
            "--tenant",
            "0363",
            f"{letters[0].partition}:{letters[0].offset}",
        )
    assert shown.returncode == 0, shown.stderr
    attempts = orjson.loads(shown.stdout)["attempts"]
    assert [(a["n"], a["outcome"], a["code"]) for a in attempts] == [
        (1, "retryable", "503"),
        (2, "retryable", "503"),
        (3, "permanent", "400"),
    ]
    assert all(isinstance(a["ms"], int) and 0 <= a["ms"] < 5000 for a in attempts)
    assert attempts[0]["at"] < attempts[1]["at"] < attempts[2]["at"]
    codes = {"tenant": "0363", "destination": "zaken"}
    failures = "knooppunt_delivery_failures_total"
    assert metric_value(exposition, failures, code="503", **codes) == 2.0
    assert metric_value(exposition, failures, code="400", **codes) == 1.0
    timed = "knooppunt_delivery_attempt_seconds_count"
    assert metric_value(exposition, timed, destination="zaken", outcome="retryable") == 2.0
    assert metric_value(exposition, timed, destination="zaken", outcome="permanent") == 1.0


async def test_a_back_office_that_throttles_is_retried_without_opening_its_circuit(
    hub_settings: Settings, backoffice: FakeBackOffice
) -> None:
    backoffice.script("zaken", fail_first=3, fail_status=429, retry_after="1")
    config = hub_config(
        [tenant_entry("0363", {"zaken": backoffice.url("zaken")})],
        [form_route("0363", "aanvraag", ["zaken"])],
    )
    config = config.model_copy(
        update={
            "delivery": config.delivery.model_copy(
                update={"circuit_failures": 2, "circuit_break": "10m"}
            )
        }
    )
    circuits: list[str] = []
    async with running_hub(hub_settings, config) as (hub, http):
        await wait_ready(http)
        sent = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("aanvraag"), headers=AUTH
        )
        assert sent.status_code == 202
        assert hub.delivery is not None
        status = hub.delivery.status

        def delivered() -> bool:
            circuits.extend(s.circuit for s in status())
            return len(backoffice.accepted("zaken")) == 1

        await until(delivered, timeout_s=60)
        exposition = (await http.get("/metrics")).text
    assert [r.status for r in backoffice.received("zaken")] == [429, 429, 429, 201]
    assert set(circuits) == {"closed"}  # 3 x 429 with circuit_failures 2: never opened
    labels = {"tenant": "0363", "destination": "zaken"}
    assert (
        metric_value(exposition, "knooppunt_deliveries_total", outcome="throttled", **labels) == 3
    )
    assert metric_value(exposition, "knooppunt_delivery_failures_total", code="429", **labels) == 0
