"""Processes under measurement: starting and stopping them, and what /proc says about them.

Everything measured runs in a process of its own (the hub, the raw loop, the minimal intake, the
back office, the load generator), so no two of them compete for one GIL and the figures of one
process (RSS, CPU, its TCP connections) are its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

__all__ = [
    "BENCH_DIR",
    "REPO",
    "VENV_BIN",
    "Child",
    "cpu_seconds",
    "established_to",
    "http_ok",
    "rss_bytes",
    "running",
    "wait_until_ok",
]

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / ".knooppunt" / "bench"
VENV_BIN = Path(sys.executable).parent
_TCP_ESTABLISHED = "01"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Child:
    """A started process, its log file and when it was started (time.monotonic())."""

    process: subprocess.Popen[bytes]
    log: Path
    started: float

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        """Raise, with the tail of its log, when the process has exited."""
        code = self.process.poll()
        if code is not None:
            tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{self.log.stem} exited with {code}; log tail:\n{tail}")


@contextmanager
def running(
    argv: Sequence[str],
    log_name: str,
    env: Mapping[str, str] | None = None,
    stop_timeout_s: float = 60.0,
) -> Iterator[Child]:
    """Run ``argv`` (stdout and stderr to ``.knooppunt/bench/logs/<log_name>.log``); on exit
    SIGTERM, then SIGKILL after ``stop_timeout_s``."""
    logs = BENCH_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{log_name}.log"
    with log.open("wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            list(argv),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        try:
            yield Child(process, log, started)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(stop_timeout_s)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    """Whether GET ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ok(child: Child, url: str, timeout_s: float, interval_s: float = 0.1) -> float:
    """Poll ``url`` until it answers 200; seconds since the child started. Raises on timeout or
    when the child exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        child.check_alive()
        if http_ok(url, timeout_s=min(5.0, timeout_s)):
            return time.monotonic() - child.started
        time.sleep(interval_s)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f} s (log: {child.log})")


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of ``pid`` (``VmRSS``, or ``VmHWM`` for the peak) from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far (utime + stime of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _CLOCK_TICKS


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def established_to(pid: int, port: int) -> int:
    """How many ESTABLISHED TCP connections ``pid`` holds to remote ``port`` (/proc/net/tcp*,
    matched to the process by socket inode)."""
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            columns = line.split()
            remote_port = int(columns[2].rsplit(":", 1)[1], 16)
            if columns[3] == _TCP_ESTABLISHED and remote_port == port and columns[9] in inodes:
                count += 1
    return count
