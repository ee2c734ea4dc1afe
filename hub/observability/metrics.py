"""Prometheus metrics, all named ``knooppunt_*``, with bounded labels only.

Labels are tenant (about 340), contract type, destination and outcome: never an id or a person.
``Metrics.catalog()`` lists every metric a hub exports (docs/metrics.md is generated from it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "CIRCUIT_STATES",
    "BoundedLabel",
    "ConsumerLagCollector",
    "DestinationCollector",
    "MetricInfo",
    "Metrics",
]

CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2, "blocked": 3}


class BoundedLabel:
    """A label value from outside (a back office's error code) kept bounded: the first ``limit``
    distinct values that look like a code (letters, digits, ``._:-``, at most 24 characters)
    pass as they are, anything else is ``other``, no code at all ``none``. A back office that
    answers a fresh code each time cannot grow the metric without bound."""

    _CODE = re.compile(r"[A-Za-z0-9._:-]{1,24}")

    def __init__(self, limit: int = 64) -> None:
        self.limit, self.seen = limit, set[str]()

    def __call__(self, value: str) -> str:
        if not value:
            return "none"
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit or not self._CODE.fullmatch(value):
            return "other"
        self.seen.add(value)
        return value


@dataclass(frozen=True)
class MetricInfo:
    """One metric as a scrape names it: ``name`` without the ``_total`` or ``_bucket`` a
    counter's or histogram's samples add, ``type`` (counter, gauge, histogram), ``help`` and
    its label names."""

    name: str
    type: str
    help: str
    labels: tuple[str, ...]

    def sample_names(self) -> tuple[str, ...]:
        """The names of the samples a scrape shows for it."""
        if self.type == "counter":
            return (f"{self.name}_total", f"{self.name}_created")
        if self.type == "histogram":
            suffixes = ("_bucket", "_sum", "_count", "_created")
            return tuple(self.name + suffix for suffix in suffixes)
        return (self.name,)

    def family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.help, labels=list(self.labels))


_DESTINATION = ("tenant", "destination")
CIRCUIT_STATE = MetricInfo(
    "knooppunt_destination_circuit_state",
    "gauge",
    "Circuit breaker of a push destination: 0 closed, 1 half-open (probing), 2 open, "
    "3 blocked (failing for delivery.block_after; an operator releases it).",
    _DESTINATION,
)
IN_FLIGHT = MetricInfo(
    "knooppunt_destination_in_flight", "gauge", "Deliveries running now.", _DESTINATION
)
WAITING = MetricInfo(
    "knooppunt_destination_waiting",
    "gauge",
    "Events fetched for a destination and not started yet.",
    _DESTINATION,
)
CONSUMER_LAG = MetricInfo(
    "knooppunt_consumer_lag",
    "gauge",
    "Records on a consumer group's topics not handled yet (end offset minus committed offset, "
    "summed over partitions; over topics too for contract and retry topics, whose tenant and "
    "destination are empty). Measured every KNOOPPUNT_LAG_INTERVAL_S by processes that run "
    "the group; every such process reports the same figure (use max, not sum).",
    ("group", "topic_kind", "tenant", "destination"),
)
LAG_MEASURED = MetricInfo(
    "knooppunt_consumer_lag_measured_timestamp_seconds",
    "gauge",
    "When knooppunt_consumer_lag was last measured (Unix time); it stands still while Kafka "
    "does not answer.",
    (),
)


class DestinationCollector(Collector):
    """Each push destination's engine state, read at scrape time (nothing in the hot path):
    ``knooppunt_destination_circuit_state`` (0 closed, 1 half-open, 2 open, 3 blocked),
    ``knooppunt_destination_in_flight`` and ``knooppunt_destination_waiting``."""

    CATALOG = (CIRCUIT_STATE, IN_FLIGHT, WAITING)

    def __init__(self, status: Callable[[], Sequence[Any]]) -> None:
        self.status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        circuit, in_flight, waiting = (info.family() for info in self.CATALOG)
        for one in self.status():
            names = [one.tenant, one.destination]
            circuit.add_metric(names, CIRCUIT_STATES.get(one.circuit, 2))
            in_flight.add_metric(names, one.in_flight)
            waiting.add_metric(names, one.waiting)
        yield from (circuit, in_flight, waiting)


LagKey = tuple[str, str, str, str]  # group, topic kind, tenant, destination


class ConsumerLagCollector(Collector):
    """``knooppunt_consumer_lag`` from the last measurement (hub.kafka.lag measures it on a
    timer): a scrape reads what ``lag()`` holds and never waits on Kafka. ``lag()`` returns
    the figures by (group, topic kind, tenant, destination) and when they were measured (Unix
    time; None before the first measurement, when nothing is exported)."""

    CATALOG = (CONSUMER_LAG, LAG_MEASURED)

    def __init__(self, lag: Callable[[], tuple[Mapping[LagKey, int], float | None]]) -> None:
        self.lag = lag

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures, measured_at = self.lag()
        lag, measured = (info.family() for info in self.CATALOG)
        for key, value in figures.items():
            lag.add_metric(list(key), value)
        if measured_at is not None:
            measured.add_metric([], measured_at)
        yield from (lag, measured)


class Metrics:
    """One set of metrics per hub app (own registry, so tests can build several apps).

    Without the ``_created`` gauge prometheus_client adds beside every counter and histogram
    series (a second series each, that no dashboard or rule reads; Prometheus derives resets
    itself): half the series at 340 tenants."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # process-wide, for every Metrics
        self.registry = registry or CollectorRegistry()
        self.submissions = Counter(
            "knooppunt_submissions_accepted_total",
            "Form submissions accepted over HTTP and acknowledged by Kafka.",
            ["tenant"],
            registry=self.registry,
        )
        self.events_published = Counter(
            "knooppunt_events_published_total",
            "Contract events a source (HTTP intake, poller, Notificaties API) published and Kafka "
            "acknowledged; a resend of the same event is counted once.",
            ["tenant", "contract"],
            registry=self.registry,
        )
        self.events_received = Counter(
            "knooppunt_events_received_total",
            "Records the router read from a contract topic (routed, unrouted, duplicate or "
            "dead-lettered after), by the topic's contract type.",
            ["contract"],
            registry=self.registry,
        )
        self.events_routed = Counter(
            "knooppunt_events_routed_total",
            "Copies of contract events published to a destination topic.",
            ["tenant", "contract", "destination"],
            registry=self.registry,
        )
        self.events_unrouted = Counter(
            "knooppunt_events_unrouted_total",
            "Contract events that matched no route of their tenant.",
            ["tenant", "contract"],
            registry=self.registry,
        )
        self.events_duplicate = Counter(
            "knooppunt_events_duplicate_total",
            "Contract events the router skipped: the same source and id routed before "
            "(hub.routing.duplicates).",
            ["tenant", "contract"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "knooppunt_dead_letters_total",
            "Events sent to a dead-letter topic, by reason.",
            ["tenant", "reason"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "knooppunt_deliveries_total",
            "Delivery attempts by push sinks, by outcome (delivered, retry, throttled, "
            "dead_letter; held: a probe of an open circuit failed and the event waits).",
            ["tenant", "destination", "outcome"],
            registry=self.registry,
        )
        self.attempt_seconds = Histogram(
            "knooppunt_delivery_attempt_seconds",
            "How long a sink's delivery attempt took, by outcome (delivered, retryable, "
            "throttled, permanent, error: the sink raised).",
            ["destination", "outcome"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.failures = Counter(
            "knooppunt_delivery_failures_total",
            "Failed delivery attempts by the back office's code (an HTTP status, a SOAP fault "
            "code, an SMTP reply; none: no answer; other: beyond the first 64 codes).",
            ["tenant", "destination", "code"],
            registry=self.registry,
        )
        self.connector_events = Counter(
            "knooppunt_connector_events_total",
            "What connectors count themselves (token fetches...), by a fixed name and outcome.",
            ["connector", "tenant", "destination", "name", "outcome"],
            registry=self.registry,
        )
        self.quarantined = Counter(
            "knooppunt_events_quarantined_total",
            "Events found on a destination topic of another tenant (a security error).",
            ["tenant"],
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "knooppunt_delivery_latency_seconds",
            "Time from an event's ce_time to its delivery to a back office (end to end).",
            ["destination"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
            registry=self.registry,
        )
        self.routing_latency = Histogram(
            "knooppunt_routing_latency_seconds",
            "Time from an event's ce_time to its copies being on their destination topics.",
            ["contract"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.http_requests = Counter(
            "knooppunt_http_requests_total",
            "HTTP requests answered, by method, route template (never the raw path; "
            "'unmatched' for a path no route serves) and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "knooppunt_http_request_seconds",
            "How long the hub took to answer an HTTP request, by route template.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )

    def catalog(self) -> list[MetricInfo]:
        """Every metric a hub may export, sorted by name: these and the collectors' (registered
        by the processes whose roles feed them)."""
        own = [
            MetricInfo(
                metric._name,  # prometheus_client keeps these private; stable since 0.4
                metric._type,
                metric._documentation,
                tuple(metric._labelnames),
            )
            for metric in vars(self).values()
            if isinstance(metric, Counter | Histogram)
        ]
        collected = [*DestinationCollector.CATALOG, *ConsumerLagCollector.CATALOG]
        return sorted([*own, *collected], key=lambda info: info.name)
