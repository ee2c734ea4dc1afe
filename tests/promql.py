"""A small PromQL reader for tests: the metric names and label names an expression uses, checked
against what the hub exports (``Metrics.catalog()``, the same walk docs/metrics.md comes from).

Not a parser: a tokenizer that knows where PromQL puts label names (inside a selector's braces,
in ``by``/``without``/``on``/``ignoring``/``group_left``/``group_right`` lists) and where
functions are (a name before a parenthesis). Enough to catch a renamed metric or label in the
dashboard and the alert rules.
"""

from __future__ import annotations

import re
from functools import cache

from hub.observability.metrics import Metrics

__all__ = ["names_in", "unknown_names"]

_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`'  # strings
    r"|\[[^\]]*\]"  # range and subquery durations
    r"|\$\{?\w+(?::\w+)?\}?"  # Grafana variables ($tenant, ${__rate_interval})
    r"|[A-Za-z_:][A-Za-z0-9_:]*"  # names
    r"|[0-9.]+[a-zA-Z]*"  # numbers, durations
    r"|=~|!~|!=|==|>=|<=|[-+*/%^(){},=<>]"
)
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_AGGREGATIONS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk"}
_AGGREGATIONS |= {"quantile", "count_values", "group", "limitk", "limit_ratio"}
_KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"}
_KEYWORDS |= _GROUPING | _AGGREGATIONS
# Labels Prometheus adds to every scraped series, and a histogram's bucket bound.
_TARGET_LABELS = {"job", "instance", "__name__"}
_PROMETHEUS_METRICS = {"up": ()}  # what Prometheus itself records per target


def names_in(expr: str) -> tuple[list[tuple[str, set[str]]], set[str]]:
    """The metrics ``expr`` selects, each with the label names its braces use, and the label
    names its grouping clauses use."""
    tokens = _TOKEN.findall(expr)
    selected: list[tuple[str, set[str]]] = []
    grouped: set[str] = set()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _GROUPING and following == "(":
            i += 2
            while i < len(tokens) and tokens[i] != ")":
                if tokens[i] != ",":
                    grouped.add(tokens[i])
                i += 1
        elif token == "{":  # a selector without a name before it: {__name__=~"..."}
            bare, i = _braces(tokens, i)
            selected.append(("", bare))
        elif _is_name(token) and token not in _KEYWORDS and following != "(":
            labels: set[str] = set()
            if following == "{":
                labels, i = _braces(tokens, i + 1)
            selected.append((token, labels))
        i += 1
    return selected, grouped


def _braces(tokens: list[str], i: int) -> tuple[set[str], int]:
    """The label names of the selector whose ``{`` is at ``i``; the index of its ``}``."""
    labels: set[str] = set()
    i += 1
    while i < len(tokens) and tokens[i] != "}":
        if _is_name(tokens[i]) and i + 1 < len(tokens) and tokens[i + 1] in ("=", "!=", "=~", "!~"):
            labels.add(tokens[i])
        i += 1
    return labels, i


def _is_name(token: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:]*", token))


@cache
def exported() -> dict[str, frozenset[str]]:
    """Each sample name a scrape of a hub may show, with the label names it may carry."""
    samples: dict[str, frozenset[str]] = {
        name: frozenset(labels) for name, labels in _PROMETHEUS_METRICS.items()
    }
    for info in Metrics().catalog():
        for name in info.sample_names():
            extra = {"le"} if name.endswith("_bucket") else set()
            samples[name] = frozenset({*info.labels, *extra})
    return samples


def unknown_names(expr: str) -> list[str]:
    """What ``expr`` names that the hub does not export: metrics, and labels of a selector or
    a grouping clause; empty when all is known."""
    samples = exported()
    every_label = set().union(*samples.values()) | _TARGET_LABELS
    selected, grouped = names_in(expr)
    unknown = [f"label {label}" for label in sorted(grouped - every_label)]
    for metric, labels in selected:
        if metric and metric not in samples:
            unknown.append(f"metric {metric}")
            continue
        allowed = (samples[metric] if metric else every_label) | _TARGET_LABELS
        unknown.extend(f"label {label} of {metric}" for label in sorted(labels - allowed))
    return unknown
