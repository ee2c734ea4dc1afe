"""How many replicas the topics the hub creates get, and how many must be in sync."""

from __future__ import annotations

import pytest

from hub.kafka.admin import TopicCreationError, replication_for
from hub.runtime.settings import Settings


@pytest.mark.parametrize(
    ("brokers", "expected"),
    [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2)), (12, (3, 2))],
)
def test_automatic_replication_follows_the_number_of_brokers(
    brokers: int, expected: tuple[int, int]
) -> None:
    assert replication_for(brokers) == expected


def test_explicit_choices_win_over_the_automatic_ones() -> None:
    assert replication_for(5, replication=5) == (5, 2)
    assert replication_for(5, replication=5, min_insync=3) == (5, 3)
    assert replication_for(3, replication=2) == (2, 1)
    assert replication_for(3, min_insync=1) == (3, 1)


def test_more_replicas_than_brokers_is_refused_with_the_setting_to_change() -> None:
    with pytest.raises(TopicCreationError, match=r"KNOOPPUNT_TOPIC_REPLICATION=3 .* 1 broker"):
        replication_for(1, replication=3)


def test_more_in_sync_replicas_than_replicas_is_refused() -> None:
    with pytest.raises(TopicCreationError, match="KNOOPPUNT_TOPIC_MIN_INSYNC_REPLICAS=2"):
        replication_for(1, min_insync=2)


def test_no_broker_is_refused() -> None:
    with pytest.raises(TopicCreationError, match="names no broker"):
        replication_for(0)


def test_settings_read_auto_and_numbers_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KNOOPPUNT_TOPIC_REPLICATION", raising=False)
    assert Settings().topic_replication is None
    monkeypatch.setenv("KNOOPPUNT_TOPIC_REPLICATION", "auto")
    monkeypatch.setenv("KNOOPPUNT_TOPIC_MIN_INSYNC_REPLICAS", "AUTO")
    assert (Settings().topic_replication, Settings().topic_min_insync_replicas) == (None, None)
    monkeypatch.setenv("KNOOPPUNT_TOPIC_REPLICATION", "3")
    monkeypatch.setenv("KNOOPPUNT_TOPIC_MIN_INSYNC_REPLICAS", "2")
    assert (Settings().topic_replication, Settings().topic_min_insync_replicas) == (3, 2)
