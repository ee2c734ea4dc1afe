"""docs/metrics.md, generated from ``Metrics.catalog()`` by ``knooppunt metrics docs``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hub.observability.metrics import MetricInfo

__all__ = ["render_metrics_doc"]

_INTRO = """\
# Metrics

Generated from the code (`Metrics.catalog()` in hub/observability/metrics.py) by
`knooppunt metrics docs`; do not edit by hand (`make lint` checks it is up to date).

Every hub process serves them at `/metrics` (Prometheus text exposition). All are named
`knooppunt_*` and their labels are bounded: a tenant (about 340), a contract type, a
destination, an outcome, a route template, a status code; never an id, a path or a person.
A counter's samples end in `_total`; a histogram's in `_bucket`, `_sum` and `_count`.

A process exports what its roles feed: the intake counters come from `api` processes, the
routing ones from `router` processes, the delivery ones and the destinations' gauges from
`delivery` processes. `knooppunt_consumer_lag` is measured by every process that runs a
group's consumers, so with several processes take `max by (group, topic_kind, tenant,
destination)`, not `sum`. The Grafana dashboard (`deploy/observability/grafana/`) and the alert
rules (`deploy/observability/prometheus/`) use only these names and labels (a test checks it).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_metrics_doc(catalog: Sequence[MetricInfo]) -> str:
    """One table row per metric: the name a query uses, its type, labels and meaning."""
    lines = [
        _INTRO,
        "| metric | type | labels | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for info in catalog:
        name = f"{info.name}_total" if info.type == "counter" else info.name
        labels = ", ".join(f"`{label}`" for label in info.labels) or "none"
        lines.append(f"| `{name}` | {info.type} | {labels} | {_cell(info.help)} |")
    return "\n".join(lines) + "\n"
