"""The Grafana dashboard (deploy/observability/grafana/knooppunt.json) names only metrics and
labels the hub exports (tests/promql.py reads each PromQL expression against
``Metrics.catalog()``), has its municipality drill-down, and is a dashboard Grafana can import."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.promql import exported, unknown_names

DASHBOARD = Path(__file__).parents[2] / "deploy" / "observability" / "grafana" / "knooppunt.json"


def _load() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _expressions() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in _panels(_load()["panels"])
        for target in panel.get("targets", [])
    ]


@pytest.mark.parametrize(("title", "expr"), _expressions())
def test_every_expression_names_only_what_the_hub_exports(title: str, expr: str) -> None:
    assert unknown_names(expr) == [], title


def test_a_wrong_name_would_be_caught() -> None:
    _title, expr = _expressions()[0]
    assert unknown_names(expr.replace("knooppunt_", "knoopunt_")) != []
    assert unknown_names("sum by (gemeente) (rate(knooppunt_deliveries_total[5m]))") == [
        "label gemeente"
    ]


def test_the_municipality_variable_lists_tenants_the_hub_exports() -> None:
    variables = {v["name"]: v for v in _load()["templating"]["list"]}
    tenant = variables["tenant"]
    found = re.fullmatch(
        r'label_values\(\{__name__=~"([\w|]+)"\}, (\w+)\)', tenant["query"]["query"]
    )
    assert found is not None
    metrics, label = found.group(1).split("|"), found.group(2)
    assert label == "tenant"
    assert all(label in exported()[metric] for metric in metrics)
    # a tenant whose destinations are all topics has no deliveries (found in a trial): its
    # events are published and routed all the same
    assert {"knooppunt_events_published_total", "knooppunt_events_routed_total"} <= set(metrics)
    assert tenant["multi"]
    assert tenant["includeAll"]
    assert variables["datasource"]["type"] == "datasource"


def test_overview_drill_down_and_destinations_are_there() -> None:
    dashboard = _load()
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert rows == ["Overview: every municipality", "Municipality: $tenant", "Destinations"]
    drill_down = [e for t, e in _expressions() if "$tenant" in t]
    assert drill_down
    assert all('tenant=~"$tenant"' in e for e in drill_down)
    every = " ".join(e for _t, e in _expressions())
    for needed in (
        "knooppunt_consumer_lag",
        "knooppunt_destination_circuit_state",
        "knooppunt_delivery_latency_seconds_bucket",
        "knooppunt_dead_letters_total",
    ):
        assert needed in every


def test_it_is_a_dashboard_grafana_imports() -> None:
    dashboard = _load()
    assert dashboard["uid"]
    assert dashboard["title"]
    assert dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in _panels(dashboard["panels"])]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard["panels"]):
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert [t["refId"] for t in panel["targets"]] == [
                chr(65 + i) for i in range(len(panel["targets"]))
            ]
