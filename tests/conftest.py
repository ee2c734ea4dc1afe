"""Shared fixtures: the session's real Kafka broker, unique names, and hub builders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.config import HubConfig, load_config
from hub.http.auth import make_token
from hub.runtime.assembly import Hub, build_hub
from hub.runtime.settings import Settings
from tests.kafka_under_test import KafkaUnderTest, free_port, kafka_for_session

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "deploy" / "demo" / "config.yaml"
DEMO_SECRET = (
    (REPO / "deploy" / "demo" / "secrets" / "demo-eformulieren.secret").read_text().strip()
)

_broker_used: list[str] = []


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaUnderTest]:
    """The real broker of this test session (see tests/kafka_under_test.py for the order)."""
    try:
        with kafka_for_session() as broker:
            _broker_used.append(broker.description)
            yield broker
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    line = _broker_used[0] if _broker_used else "none (no test needed Kafka)"
    terminalreporter.write_line(f"Kafka under test: {line}")


@pytest.fixture
def prefix() -> str:
    """A unique topic and group prefix, so tests share the broker without sharing topics."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def demo_config() -> HubConfig:
    return load_config(DEMO_CONFIG)


@pytest.fixture
def hub_settings(kafka: KafkaUnderTest, prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka.bootstrap,
        topic_prefix=prefix,
        http_port=free_port(),
        topic_partitions=3,
        shutdown_grace_s=10,
    )


def demo_token(client_id: str = "demo-eformulieren", secret: str = DEMO_SECRET) -> str:
    return make_token(client_id, secret)


@asynccontextmanager
async def running_hub(
    settings: Settings, config: HubConfig
) -> AsyncIterator[tuple[Hub, httpx.AsyncClient]]:
    """A hub in this process, started through its real lifespan, with an HTTP client to it."""
    built = build_hub(settings, config)
    async with built.app.router.lifespan_context(built.app):
        transport = httpx.ASGITransport(app=built.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield built, client


@pytest.fixture
def hub_factory() -> Callable[[Settings, HubConfig], Any]:
    return running_hub
