"""The start banner stays readable however many tenants the hub serves."""

from __future__ import annotations

from typing import Any, cast

from hub.config import HubConfig
from hub.runtime.assembly import BANNER_TOPICS, Hub
from hub.runtime.settings import Settings


def _config(tenants: int) -> HubConfig:
    return HubConfig.model_validate(
        {
            "tenants": [
                {
                    "id": f"{i + 1:04d}",
                    "name": f"Gemeente {i + 1:04d}",
                    "oin": f"00000001{i + 1:012d}",
                    "rsin": f"{i + 1:09d}",
                    "destinations": [{"name": "zaken", "connector": "topic"}],
                }
                for i in range(tenants)
            ]
        }
    )


def _banner(config: HubConfig) -> str:
    none = cast("Any", None)
    return Hub(Settings(), config, none, none, none, []).banner()


def test_340_tenants_list_the_first_topics_and_say_how_many_more() -> None:
    config = _config(340)
    topics = Settings().topics.all_for(config)
    banner = _banner(config)
    listed = [line for line in banner.splitlines() if line.startswith("    ")]
    assert len(listed) == BANNER_TOPICS + 1
    assert listed[-1] == f"    ... and {len(topics) - BANNER_TOPICS} more (/asyncapi lists all)"
    assert f"(0 created now, {len(topics)} existed)" in banner


def test_a_small_config_lists_every_topic() -> None:
    config = _config(1)
    topics = Settings().topics.all_for(config)
    banner = _banner(config)
    assert all(f"    {topic}" in banner for topic in topics)
    assert "more (/asyncapi" not in banner
