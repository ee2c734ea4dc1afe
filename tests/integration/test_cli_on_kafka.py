"""CLI cases a new user met with Kafka running (issue 11, part 7): one line, the right exit code."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hub.cli.main import app
from tests.kafka_under_test import KafkaUnderTest

pytestmark = pytest.mark.kafka


def test_dlq_of_a_tenant_without_a_dead_letter_topic(kafka: KafkaUnderTest, prefix: str) -> None:
    """Was an AssertionError: a tenant the hub never ran with has no dead-letter topic."""
    env = {"KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap, "KNOOPPUNT_TOPIC_PREFIX": prefix}
    result = CliRunner().invoke(app, ["dlq", "list", "--tenant", "9999"], env=env)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"error: there is no dead-letter topic {prefix}knooppunt.dlq.9999 at {kafka.bootstrap}: "
        "is the tenant in the config, and has the hub run with it?"
    ]
