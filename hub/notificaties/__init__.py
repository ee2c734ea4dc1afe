"""The ZGW Notificaties API 1.0 served by the hub (issue 9): kanalen, abonnementen and
notificaties of many municipalities, on Kafka. docs/notificaties.md says how to use it.

For a router or delivery engine: ``AbonnementenStore`` (every abonnement, its changes as they
happen) and ``delivers`` / ``matches`` (Open Notificaties' filter rules).
"""

from hub.notificaties.compacted import Change
from hub.notificaties.domain import Abonnement, Kanaal, KanaalFilter
from hub.notificaties.matching import delivers, filters_match, kenmerk_key, matches
from hub.notificaties.store import AbonnementenStore, KanalenStore

__all__ = [
    "Abonnement",
    "AbonnementenStore",
    "Change",
    "Kanaal",
    "KanaalFilter",
    "KanalenStore",
    "delivers",
    "filters_match",
    "kenmerk_key",
    "matches",
]
