"""A shutdown step that hangs (a Kafka client waiting on a broker gone away) never keeps the
hub from ending: each step is bounded and the one that hung is named in the log."""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
import pytest
import structlog

from hub.observability.logs import configure_logging
from hub.runtime import assembly


async def test_a_hanging_step_is_left_after_its_bound_and_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assembly, "STOP_MARGIN_S", 0.2)
    configure_logging("INFO")
    try:
        started = time.monotonic()
        await assembly._bounded("consumer knooppunt-deliver", asyncio.Event().wait(), 0.1)
        took = time.monotonic() - started

        async def broken() -> None:
            raise RuntimeError("socket closed")

        await assembly._bounded("producer", broken(), 0.1)
        lines = capsys.readouterr().out.strip().splitlines()
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    assert took < 5  # the bound (0.3 s), not for ever
    timed_out, failed = (orjson.loads(line) for line in lines)
    assert (timed_out["event"], timed_out["step"]) == (
        "hub_stop_step_timed_out",
        "consumer knooppunt-deliver",
    )
    assert (failed["event"], failed["step"], failed["error"]) == (
        "hub_stop_step_failed",
        "producer",
        "socket closed",
    )
