"""A real Prometheus scraping a running hub (issue 11 part 4): the counters, the circuit state,
the consumer lag (checked against Kafka's own offsets) and an alert, end to end over HTTP; and
every metric of the catalog (docs/metrics.md) has a series there, fed by what the flow did.

The hub runs as a user runs it (``knooppunt run``); Prometheus is Debian's binary with a config
and storage of its own in the test's temporary folder, on a free loopback port, scraping every
second and evaluating the project's alert rules. It is stopped at the end of the test.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from connectors.brp_update.changes import DUTCH_TIME
from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.observability.metrics import Metrics
from hub.runtime.settings import Settings
from tests.conftest import demo_token
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.fakes.brp_update import FakeBrpUpdate, running_brp_update
from tests.integration.helpers import FORM_SUBMITTED, SECRETS, form_route, tenant_entry
from tests.integration.processes import hub_process, wait_ready_process
from tests.kafka_reading import produce_raw
from tests.kafka_under_test import KafkaUnderTest, free_port
from tests.observability import OBSERVABILITY, tool
from tests.samples import submission

pytestmark = pytest.mark.kafka
SUBMISSIONS = 10
ROUTE = "/api/v1/tenants/{tenant}/submissions"
BRP_KEY_ENV = "KNOOPPUNT_TEST_BRP_UPDATE_KEY"
NOT_A_BSN = "123456789"  # fails the elfproef: the BRP poller counts it, never publishes it
OPERATOR, OPERATOR_ENV = "ops-all", "KNOOPPUNT_TEST_OPERATOR_PASSWORD"
OPERATOR_PASSWORD = "every-municipality-password"
DASHBOARD = OBSERVABILITY / "grafana" / "knooppunt.json"


@contextmanager
def running_prometheus(target: str, folder: Path) -> Iterator[str]:
    """Prometheus scraping ``target`` (host:port) every second with the project's alert rules;
    yields its base URL; stopped (and waited for) on exit."""
    binary = tool("prometheus")
    shutil.copy(OBSERVABILITY / "prometheus" / "knooppunt-rules.yml", folder)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["knooppunt-rules.yml"],
        "scrape_configs": [{"job_name": "knooppunt", "static_configs": [{"targets": [target]}]}],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with (folder / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, process, folder / "prometheus.log")
            yield base
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _wait_ready(
    base: str, process: subprocess.Popen[bytes], log: Path, limit_s: float = 30
) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"prometheus exited: {log.read_text()}"
        try:
            if httpx.get(f"{base}/-/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"prometheus not ready after {limit_s} s: {log.read_text()}")


def _config(folder: Path, backoffice: FakeBackOffice, brp: FakeBrpUpdate) -> Path:
    """0363 routes a form to three webhooks: ``zaken`` takes everything, ``kapot`` refuses
    everything (422: dead letters), ``dicht`` is down (503): its circuit opens after one
    failure for 10 minutes, so the rest of the burst waits in Kafka as lag. It also polls the
    BRP for changes (a connector that counts what it passes over)."""
    destinations: dict[str, str | None] = {
        name: backoffice.url(name) for name in ("zaken", "kapot", "dicht")
    }
    tenant = tenant_entry("0363", destinations)
    yesterday = datetime.now(DUTCH_TIME).date() - timedelta(days=1)
    brp.follow("knooppunt", NOT_A_BSN, yesterday - timedelta(days=1))
    brp.change(NOT_A_BSN, yesterday)
    tenant["sources"] = [
        {
            "name": "brp-wijzigingen",
            "connector": "brp-wijzigingen",
            "settings": {
                "url": brp.url,
                "auth": {"type": "header", "header": "X-API-KEY", "value_env": BRP_KEY_ENV},
                "settle_s": 0,
                "interval_s": 1,
                "start_date": str(yesterday),
            },
        }
    ]
    config = {
        "tenants": [tenant],
        "clients": [{"id": "demo-eformulieren", "secret_file": str(SECRETS), "tenants": ["0363"]}],
        "operators": [{"id": OPERATOR, "secret_env": OPERATOR_ENV, "tenants": "all"}],
        "routes": [form_route("0363", "burst", list(destinations))],
        "delivery": {
            "retry_delays": ["1h"],
            "max_in_flight": 1,
            "circuit_failures": 1,
            "circuit_break": "10m",
        },
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def _kafka_lag(settings: Settings, topic: str) -> int:
    """End offset minus the delivery group's committed offset, summed over ``topic``'s
    partitions, as Kafka itself says it."""
    bootstrap = settings.kafka_bootstrap_servers
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.topics.group("deliver"))
        [described] = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
        await admin.close()
    marks = {tp: m.offset for tp, m in committed.items()}
    return sum(end - max(0, marks.get(tp, 0)) for tp, end in ends.items())


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5)
    answer.raise_for_status()
    body = answer.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _value(prometheus: str, expr: str) -> float | None:
    """The value of an expression with one result; None while it has none."""
    result = _query(prometheus, expr)
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def _until(prometheus: str, expr: str, expected: float, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    seen = None
    while time.monotonic() < deadline:
        seen = _value(prometheus, expr)
        if seen == expected:
            return
        time.sleep(0.5)
    raise AssertionError(f"{expr} is {seen}, not {expected}, after {timeout_s} s")


async def _hostile_records(settings: Settings) -> None:
    """What no intake lets through, written straight to Kafka: one event twice on the contract
    topic (a form no route takes: unrouted, then a duplicate) and one of tenant 0599 on a
    destination topic of 0363 (quarantined)."""
    bootstrap, names = settings.kafka_bootstrap_servers, settings.topics
    spec = contract_for(FORM_SUBMITTED, 1)
    twice, key = build_event(spec, submission("niet-gerouteerd"), tenant="0363", source=_SOURCE)
    for _ in range(2):
        await produce_raw(bootstrap, names.contract(spec), twice.data, key, twice.kafka_headers())
    stranger, key = build_event(spec, submission("burst"), tenant="0599", source=_SOURCE)
    await produce_raw(
        bootstrap,
        names.destination("0363", "zaken"),
        stranger.data,
        key,
        stranger.kafka_headers(),
    )


_SOURCE = source_urn("0" * 20, "scrape-test")


async def test_prometheus_scrapes_counters_circuit_and_lag_from_a_running_hub(
    kafka: KafkaUnderTest, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=kafka.bootstrap,
        topic_prefix=prefix,
        http_port=free_port(),
        lag_interval_s=1,
    )
    monkeypatch.setenv(BRP_KEY_ENV, "sleutel")  # the hub process inherits both
    monkeypatch.setenv(OPERATOR_ENV, OPERATOR_PASSWORD)
    with (
        running_backoffice() as backoffice,
        running_brp_update({"sleutel": "knooppunt"}) as brp,
        hub_process(settings, _config(tmp_path, backoffice, brp), tmp_path) as hub,
    ):
        for name, status in (("kapot", 422), ("dicht", 503)):
            backoffice.script(name, fail_first=10**6, fail_status=status)
        wait_ready_process(settings, hub)
        base = f"http://127.0.0.1:{settings.http_port}"
        headers = {"Authorization": f"Bearer {demo_token()}"}
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(SUBMISSIONS):
                sent = await http.post(
                    "/api/v1/tenants/0363/submissions",
                    json=submission("burst"),
                    headers=headers,
                )
                assert sent.status_code == 202, sent.text
            refused = await http.post(
                "/api/v1/tenants/0363/submissions",
                json=submission("burst"),
                headers={"Authorization": "Bearer not-a-token"},
            )
            assert refused.status_code == 401
        await _hostile_records(settings)
        with running_prometheus(f"127.0.0.1:{settings.http_port}", tmp_path) as prometheus:
            await asyncio.to_thread(_scraped_end_to_end, prometheus, prefix)
            # The lag Prometheus has is the lag Kafka's offsets say (the circuit holds them).
            dicht = settings.topics.destination("0363", "dicht")
            lag = (
                f'knooppunt_consumer_lag{{group="{prefix}knooppunt-deliver", destination="dicht"}}'
            )
            assert _value(prometheus, lag) == await _kafka_lag(settings, dicht) == SUBMISSIONS - 1
            # The console shows the same figure; the dashboard's variable lists the tenant.
            assert await _console_lag(base, "dicht") == SUBMISSIONS - 1
            assert _dashboard_tenants(prometheus) == ["0363"]


def _scraped_end_to_end(prometheus: str, prefix: str) -> None:
    """What the hub did, as Prometheus has it (each waited for: a scrape a second)."""
    contract = f'contract="{FORM_SUBMITTED}"'
    _until(prometheus, 'up{job="knooppunt"}', 1)
    _until(prometheus, 'knooppunt_submissions_accepted_total{tenant="0363"}', SUBMISSIONS)
    _until(prometheus, f'knooppunt_events_published_total{{tenant="0363", {contract}}}', 10)
    _until(prometheus, f"knooppunt_events_received_total{{{contract}}}", SUBMISSIONS + 2)
    _until(prometheus, f'knooppunt_events_unrouted_total{{tenant="0363", {contract}}}', 1)
    _until(prometheus, f'knooppunt_events_duplicate_total{{tenant="0363", {contract}}}', 1)
    _until(prometheus, 'knooppunt_events_quarantined_total{tenant="0363"}', 1)
    not_a_bsn = 'connector="brp-wijzigingen", tenant="0363", name="wijziging", outcome="not_a_bsn"'
    _until(prometheus, f"knooppunt_connector_events_total{{{not_a_bsn}}}", 1)
    for destination in ("zaken", "kapot", "dicht"):
        routed = f'knooppunt_events_routed_total{{tenant="0363", destination="{destination}"}}'
        _until(prometheus, routed, SUBMISSIONS)
    deliveries = 'knooppunt_deliveries_total{tenant="0363", destination="%s", outcome="%s"}'
    _until(prometheus, deliveries % ("zaken", "delivered"), SUBMISSIONS)
    _until(prometheus, deliveries % ("kapot", "dead_letter"), SUBMISSIONS)
    _until(prometheus, deliveries % ("dicht", "retry"), 1)
    _until(prometheus, 'knooppunt_delivery_failures_total{destination="kapot", code="422"}', 10)
    _until(prometheus, 'knooppunt_delivery_latency_seconds_count{destination="zaken"}', 10)
    requests = 'knooppunt_http_requests_total{method="POST", route="%s", status="%s"}'
    _until(prometheus, requests % (ROUTE, "202"), SUBMISSIONS)
    _until(prometheus, requests % (ROUTE, "401"), 1)
    assert _query(prometheus, '{__name__=~"knooppunt_.*", route=~".*/0363/.*"}') == []
    _until(prometheus, 'knooppunt_destination_circuit_state{destination="dicht"}', 2)
    _until(prometheus, 'knooppunt_destination_circuit_state{destination="zaken"}', 0)
    group = f'group="{prefix}knooppunt-%s"'
    _until(prometheus, f'knooppunt_consumer_lag{{{group % "deliver"}, destination="zaken"}}', 0)
    _until(prometheus, f'knooppunt_consumer_lag{{{group % "router"}, topic_kind="contract"}}', 0)
    _until(prometheus, 'knooppunt_consumer_lag{destination="dicht"}', SUBMISSIONS - 1)
    # The project's rules, evaluated by Prometheus on the hub's own series.
    _until(prometheus, 'ALERTS{alertname="KnooppuntDeadLetters", tenant="0363"}', 1)
    # Every metric of the catalog, fed by this flow.
    exported = {r["metric"]["__name__"] for r in _query(prometheus, '{__name__=~"knooppunt_.*"}')}
    missing = [sample for sample in _catalog_samples() if sample not in exported]
    assert missing == [], f"no series in Prometheus for {missing}"


async def _console_lag(base: str, destination: str) -> int:
    """The lag the ops console shows for one of 0363's destinations."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        logged_in = await http.post(
            "/console/login",
            content=f"operator={OPERATOR}&password={OPERATOR_PASSWORD}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert logged_in.status_code == 303, logged_in.text
        page = (await http.get("/console")).text
    found = re.search(
        rf'<tr data-destination="{destination}">.*?<td class="lag">(\d+)</td>', page, re.S
    )
    assert found is not None, page
    return int(found.group(1))


def _dashboard_tenants(prometheus: str) -> list[str]:
    """What the Grafana dashboard's municipality variable lists, asked of Prometheus the way
    Grafana asks it (label_values(selector, label): the series API)."""
    variables = {v["name"]: v for v in json.loads(DASHBOARD.read_text())["templating"]["list"]}
    query = variables["tenant"]["query"]["query"]
    found = re.fullmatch(r"label_values\((.+), (\w+)\)", query)
    assert found is not None, query
    selector, label = found.groups()
    answer = httpx.get(f"{prometheus}/api/v1/series", params={"match[]": selector}, timeout=5)
    answer.raise_for_status()
    return sorted({series[label] for series in answer.json()["data"] if label in series})


def _catalog_samples() -> list[str]:
    """One sample name per catalog metric: ``_total`` of a counter, ``_count`` of a histogram."""
    suffix = {"counter": "_total", "histogram": "_count"}
    return [
        info.name.removesuffix("_total") + suffix.get(info.type, "") for info in Metrics().catalog()
    ]
