"""The metrics catalog: what a scrape shows is what the catalog (and docs/metrics.md) says,
lag is summed per destination, and HTTP requests are counted by route template."""

from __future__ import annotations

import httpx
import pytest
from aiokafka import TopicPartition
from fastapi import FastAPI
from prometheus_client import Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hub.http.metering import RequestMetrics
from hub.kafka.topics import TopicNames
from hub.observability.metrics import (
    ConsumerLagCollector,
    DestinationCollector,
    Metrics,
)
from hub.observability.metrics_doc import render_metrics_doc
from hub.runtime.consumer_lag import lag_by_place, topic_place
from tests.conftest import REPO

NAMES = TopicNames("acc.")


def _scraped(metrics: Metrics) -> dict[str, tuple[str, set[str]]]:
    """Each family a scrape shows: its type and the label names its samples carry."""
    text = generate_latest(metrics.registry).decode()
    return {
        family.name: (family.type, {k for s in family.samples for k in s.labels} - {"le"})
        for family in text_string_to_metric_families(text)
    }


def test_every_metric_is_named_knooppunt_and_labelled_boundedly() -> None:
    unbounded = {"id", "event_id", "path", "url", "subject", "bsn", "partition", "offset", "key"}
    for info in Metrics().catalog():
        assert info.name.startswith("knooppunt_"), info.name
        assert info.help, info.name
        assert not unbounded & set(info.labels), (info.name, info.labels)


def test_a_scrape_has_no_created_series() -> None:
    """A trial found a ``_created`` gauge beside every series: half a scrape nobody reads."""
    metrics = Metrics()
    metrics.submissions.labels("0363").inc()
    metrics.delivery_latency.labels("zaken").observe(1.0)
    assert "_created" not in generate_latest(metrics.registry).decode()


def test_the_catalog_is_what_a_scrape_shows() -> None:
    """Every labelled metric used once, the collectors registered: the scrape's families,
    types and label names are exactly the catalog's."""
    metrics = Metrics()

    class Status:
        tenant, destination, circuit, in_flight, waiting = "0363", "zaken", "open", 1, 2

    metrics.registry.register(DestinationCollector(lambda: [Status()]))
    lag = {("knooppunt-deliver", "destination", "0363", "zaken"): 4}
    metrics.registry.register(ConsumerLagCollector(lambda: (lag, 1.0)))
    for metric in vars(metrics).values():
        if isinstance(metric, Histogram):
            metric.labels(*("x" for _ in metric._labelnames)).observe(1)
        elif isinstance(metric, Counter):
            metric.labels(*("x" for _ in metric._labelnames)).inc()
    scraped = _scraped(metrics)
    assert scraped == {info.name: (info.type, set(info.labels)) for info in metrics.catalog()}


def test_docs_metrics_md_is_generated_from_the_catalog() -> None:
    text = render_metrics_doc(Metrics().catalog())
    assert (
        "| `knooppunt_consumer_lag` | gauge | `group`, `topic_kind`, `tenant`, `destination` |"
        in (text)
    )
    assert "| `knooppunt_http_requests_total` | counter | `method`, `route`, `status` |" in text
    assert (REPO / "docs" / "metrics.md").read_text() == text, "run: knooppunt metrics docs"


@pytest.mark.parametrize(
    ("topic", "place"),
    [
        ("acc.knooppunt.deliver.0363.zaaksysteem", ("destination", "0363", "zaaksysteem")),
        ("acc.knooppunt.deliver.0363.abonnement-7.x", ("destination", "0363", "abonnement-7.x")),
        ("acc.knooppunt.retry.1m", ("retry", "", "")),
        ("acc.nl.gemeente.formulier.ingediend.v1", ("contract", "", "")),
        ("acc.knooppunt.dlq.0363", ("other", "", "")),
        ("knooppunt.deliver.0363.zaken", ("other", "", "")),  # another installation's
    ],
)
def test_a_topic_names_its_lag_labels(topic: str, place: tuple[str, str, str]) -> None:
    assert topic_place(topic, NAMES) == place


def test_lag_is_summed_over_partitions_and_counts_uncommitted_from_the_first_record() -> None:
    zaken = "acc.knooppunt.deliver.0363.zaken"
    mail = "acc.knooppunt.deliver.0599.mail"
    tier = ["acc.knooppunt.retry.1m", "acc.knooppunt.retry.1h"]
    ends = {
        TopicPartition(zaken, 0): 10,
        TopicPartition(zaken, 1): 7,
        TopicPartition(mail, 0): 5,
        TopicPartition(tier[0], 0): 3,
        TopicPartition(tier[1], 0): 2,
    }
    committed = {
        TopicPartition(zaken, 0): 4,
        TopicPartition(zaken, 1): 9,  # ahead of a stale end: never below zero
        TopicPartition(tier[0], 0): 3,
    }
    beginnings = {TopicPartition(mail, 0): 1, TopicPartition(tier[1], 0): 0}
    assert lag_by_place("g", ends, committed, beginnings, NAMES) == {
        ("g", "destination", "0363", "zaken"): 6,
        ("g", "destination", "0599", "mail"): 4,
        ("g", "retry", "", ""): 2,
    }


def _app(metrics: Metrics) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get("/api/{tenant}/things/{thing_id}")
    async def thing(tenant: str, thing_id: str) -> dict[str, str]:
        if thing_id == "boom":
            raise RuntimeError("a bug")
        return {"tenant": tenant}

    return app


async def test_http_requests_are_counted_by_route_template_never_by_path() -> None:
    metrics = Metrics()
    transport = httpx.ASGITransport(app=_app(metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        for thing in ("a1", "b2", "boom"):
            await http.get(f"/api/0363/things/{thing}")
        await http.get("/no/such/999999")
        await http.request("BREW", "/api/0363/things/a1")
    count = metrics.registry.get_sample_value
    route = "/api/{tenant}/things/{thing_id}"
    labels = {"method": "GET", "route": route, "status": "200"}
    assert count("knooppunt_http_requests_total", labels) == 2
    assert count("knooppunt_http_requests_total", {**labels, "status": "500"}) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert count("knooppunt_http_requests_total", unmatched) == 1
    assert count("knooppunt_http_requests_total", {**labels, "method": "other", "status": "405"})
    assert count("knooppunt_http_request_seconds_count", {"route": route}) == 4
    text = metrics.registry.collect()
    assert not any("a1" in str(sample) for family in text for sample in family.samples)
