"""The console shows each push destination's lag (issue 11 part 5: "throughput, lag, failures,
circuit state, dead letters"; a new user's trial found no lag on the page)."""

from __future__ import annotations

from hub.console.readings import destination_lag, destination_rows
from hub.console.views import _templates
from hub.delivery.engine import DestinationStatus
from tests.integration.helpers import hub_config, tenant_entry

FIGURES = {  # the lag meter's figures: (group, topic kind, tenant, destination) -> records
    ("t.knooppunt-deliver", "destination", "0363", "zaken"): 7,
    ("t.knooppunt-deliver", "destination", "0599", "zaken"): 2,
    ("t.knooppunt-retry", "retry", "", ""): 40,
    ("t.knooppunt-router", "contract", "", ""): 5,
}


def _status(tenant: str, destination: str) -> DestinationStatus:
    return DestinationStatus(tenant, destination, "open", 3, 60.0, 0, 0, 8)


def test_only_destination_topics_count_and_per_tenant() -> None:
    assert destination_lag(FIGURES) == {("0363", "zaken"): 7, ("0599", "zaken"): 2}


def test_a_row_has_its_lag_a_topic_destination_none_and_an_unmeasured_one_zero() -> None:
    config = hub_config(
        [tenant_entry("0363", {"zaken": "https://bo.example/in", "mail": "https://x", "bo": None})],
        [],
    )
    [tenant] = config.tenants
    statuses = [_status("0363", "zaken"), _status("0363", "mail")]
    rows = destination_rows(tenant, statuses, lag=destination_lag(FIGURES))
    assert [(r.name, r.lag) for r in rows] == [("zaken", 7), ("mail", 0), ("bo", None)]
    assert [r.lag for r in destination_rows(tenant, statuses)] == [None, None, None]
    html = _templates.get_template("_destinations.html").render(rows=rows, with_letters=False)
    assert '<td class="lag">7</td>' in html
    assert '<td class="lag">0</td>' in html
