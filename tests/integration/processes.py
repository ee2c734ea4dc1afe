"""Running `knooppunt` as a user does: in its own process, configured by environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from hub.runtime.settings import Settings

__all__ = ["KNOOPPUNT", "hub_env", "hub_process", "knooppunt", "wait_ready_process"]

KNOOPPUNT = str(Path(sys.executable).parent / "knooppunt")


def hub_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KNOOPPUNT_TOPIC_PREFIX": settings.topic_prefix,
        "KNOOPPUNT_HTTP_PORT": str(settings.http_port),
        "KNOOPPUNT_PUBLISH_TIMEOUT_S": str(settings.publish_timeout_s),
        "KNOOPPUNT_ROLES": settings.roles,
        "KNOOPPUNT_PUSH_PARTITIONS": str(settings.push_partitions),
        "KNOOPPUNT_LAG_INTERVAL_S": str(settings.lag_interval_s),
    }


def knooppunt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KNOOPPUNT, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@contextmanager
def hub_process(settings: Settings, config: Path, logs: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`knooppunt run --config CONFIG`, its output in LOGS/stdout.log and LOGS/stderr.log."""
    with (logs / "stdout.log").open("wb") as out, (logs / "stderr.log").open("wb") as err:
        process = subprocess.Popen(
            [KNOOPPUNT, "run", "--config", str(config)],
            env=hub_env(settings),
            stdout=out,
            stderr=err,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def wait_ready_process(
    settings: Settings, process: subprocess.Popen[bytes], timeout_s: float = 60
) -> None:
    base = f"http://127.0.0.1:{settings.http_port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the hub exited while starting"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("hub not ready in time")
