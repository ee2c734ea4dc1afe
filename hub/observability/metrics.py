"""Prometheus metrics, all named ``knooppunt_*``, with bounded labels only.

Labels are tenant (about 340), contract type, destination and outcome: never an id or a person.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Metrics"]


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
