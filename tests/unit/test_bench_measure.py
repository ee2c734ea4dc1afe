"""How `make bench` takes its figures (the bench itself never runs in `make test`): rates from
progress samples, and what /proc says about a process."""

from __future__ import annotations

import os
import socket
import time

import pytest

from benchmarks.measure import BenchOptions, steady_rate
from benchmarks.processes import cpu_seconds, established_to, rss_bytes


def test_the_rate_leaves_out_the_time_before_the_first_item() -> None:
    # 10 s of start-up, then 100 items per second for 5 s.
    samples = [(0.0, 0), (10.0, 0), (11.0, 100), (16.0, 600)]
    assert steady_rate(samples) == pytest.approx(100.0)


def test_one_look_that_saw_everything_counts_from_the_first_look() -> None:
    assert steady_rate([(0.0, 0), (2.0, 500)]) == pytest.approx(250.0)


def test_established_connections_are_counted_per_process_and_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert established_to(os.getpid(), port) == 0
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            with accepted:
                # Ours: the client end; the accepted end's remote port is the client's.
                assert established_to(os.getpid(), port) == 1
            client.close()


def test_cpu_and_memory_of_a_process_come_from_proc() -> None:
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.1
    assert rss_bytes(os.getpid()) > 10 * 1024 * 1024


def test_knobs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_TENANTS", "1,34")
    monkeypatch.setenv("BENCH_ONLY", "tenants")
    options = BenchOptions.from_environment()
    assert options.tenants == (1, 34)
    assert options.only == ("tenants",)
    monkeypatch.setenv("BENCH_ONLY", "everything")
    with pytest.raises(SystemExit, match="unknown everything"):
        BenchOptions.from_environment()


def test_the_outage_scenario_runs_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_ONLY", raising=False)
    assert "outage" not in BenchOptions.from_environment().only
    monkeypatch.setenv("BENCH_ONLY", "outage")
    monkeypatch.setenv("BENCH_OUTAGE_SECONDS", "30")
    options = BenchOptions.from_environment()
    assert options.only == ("outage",)
    assert options.outage_seconds == 30.0
