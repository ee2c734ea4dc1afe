"""The Prometheus alert rules (deploy/observability/prometheus/) pass their promtool unit tests,
and name only metrics and labels the hub exports."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.observability import OBSERVABILITY, tool
from tests.promql import unknown_names

RULES = OBSERVABILITY / "prometheus" / "knooppunt-rules.yml"


def test_the_rules_pass_promtool_check_and_their_unit_tests() -> None:
    promtool = tool("promtool")
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", RULES.with_suffix(".test.yml").name],
        cwd=RULES.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_the_issue_asks_for_is_there() -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} == {
        "KnooppuntDown",
        "KnooppuntAbsent",  # not asked for: a deployment gone has no target to be down
        "KnooppuntConsumerLagGrowing",
        "KnooppuntDeliveryFailureRatio",
        "KnooppuntDeadLetters",
        "KnooppuntCircuitOpen",
        "KnooppuntIntake5xx",
        "KnooppuntEventQuarantined",  # not asked for: an event crossed tenants (security)
    }


def test_the_rules_name_only_exported_metrics_and_labels() -> None:
    for rule in yaml.safe_load(RULES.read_text())["groups"][0]["rules"]:
        assert unknown_names(rule["expr"]) == [], rule["alert"]


def test_a_misspelt_metric_or_label_is_caught() -> None:
    """The check the rules and the dashboard rely on can fail."""
    assert unknown_names("rate(knooppunt_deliveries{outcome='x'}[5m])") == [
        "metric knooppunt_deliveries"
    ]
    assert unknown_names(
        "histogram_quantile(0.9, sum by (le, tenant) "
        '(rate(knooppunt_delivery_latency_seconds_bucket{tenant="0363"}[5m])))'
    ) == ["label tenant of knooppunt_delivery_latency_seconds_bucket"]
    assert unknown_names("sum by (gemeente) (knooppunt_consumer_lag)") == ["label gemeente"]
    assert unknown_names('max by (tenant) (knooppunt_consumer_lag{group=~"$group"})') == []


def test_a_missing_promtool_fails_the_test_saying_how_to_install_it() -> None:
    with pytest.raises(pytest.fail.Exception, match="make observability-tools"):
        tool("promtool-that-is-not-installed")
