"""Prometheus metrics, all named ``knooppunt_*``, with bounded labels only.

Labels are tenant (about 340), contract type, destination and outcome: never an id or a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["CIRCUIT_STATES", "BoundedLabel", "DestinationCollector", "Metrics"]

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


class DestinationCollector(Collector):
    """Each push destination's engine state, read at scrape time (nothing in the hot path):
    ``knooppunt_destination_circuit_state`` (0 closed, 1 half-open, 2 open, 3 blocked),
    ``knooppunt_destination_in_flight`` and ``knooppunt_destination_waiting``."""

    def __init__(self, status: Callable[[], Sequence[Any]]) -> None:
        self.status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["tenant", "destination"]
        circuit = GaugeMetricFamily(
            "knooppunt_destination_circuit_state",
            "Circuit breaker of a push destination: 0 closed, 1 half-open (probing), 2 open, "
            "3 blocked (failing for delivery.block_after; an operator releases it).",
            labels=labels,
        )
        in_flight = GaugeMetricFamily(
            "knooppunt_destination_in_flight", "Deliveries running now.", labels=labels
        )
        waiting = GaugeMetricFamily(
            "knooppunt_destination_waiting",
            "Events fetched for a destination and not started yet.",
            labels=labels,
        )
        for one in self.status():
            names = [one.tenant, one.destination]
            circuit.add_metric(names, CIRCUIT_STATES.get(one.circuit, 2))
            in_flight.add_metric(names, one.in_flight)
            waiting.add_metric(names, one.waiting)
        yield from (circuit, in_flight, waiting)


class Metrics:
    """One set of metrics per hub app (own registry, so tests can build several apps)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.submissions = Counter(
            "knooppunt_submissions_accepted_total",
            "Form submissions accepted over HTTP and acknowledged by Kafka.",
            ["tenant"],
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
            "Delivery attempts by push sinks, by outcome "
            "(delivered, retry, throttled, dead_letter).",
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
