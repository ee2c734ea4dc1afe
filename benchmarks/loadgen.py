"""The intake's load generator, always in a process of its own: vegeta, else an asyncio one.

``benchmarks/install-loadgen.sh`` (run by ``make bench``) installs vegeta into
``.knooppunt/bench/bin`` with ``go install`` where Go is available. Without it, this module is
the load generator: ``python -m benchmarks.loadgen --targets F --rate R --duration S --workers W
--output OUT`` (aiohttp; rate 0 means as fast as ``W`` connections go, each sending one request
after another; otherwise an open loop starting one request every 1/R s). Both read the same
targets file (vegeta's JSON format: one request per line, the body base64) and both end in the
same ``LoadResult``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from benchmarks.processes import BENCH_DIR

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["LoadGenerator", "LoadResult", "find_load_generator", "write_targets"]

VEGETA = BENCH_DIR / "bin" / "vegeta"


@dataclass(frozen=True)
class LoadResult:
    """One load step: ``rate`` asked (0: as fast as it goes), what came back."""

    rate: int
    seconds: float
    requests: int
    ok: int  # answered 2xx
    ok_per_s: float
    p50_ms: float
    p99_ms: float
    status_codes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def write_targets(path: Path, url: str, headers: dict[str, str], bodies: list[bytes]) -> None:
    """Targets file in vegeta's JSON format: one POST of each body to ``url``."""
    lines = [
        json.dumps(
            {
                "method": "POST",
                "url": url,
                "body": base64.b64encode(body).decode(),
                "header": {name: [value] for name, value in headers.items()},
            }
        )
        for body in bodies
    ]
    path.write_text("\n".join(lines) + "\n")


@dataclass(frozen=True)
class LoadGenerator:
    """``name`` for the report; ``vegeta``: the binary, None for benchmarks.loadgen."""

    name: str
    vegeta: str | None

    def attack(
        self, targets: Path, rate: int, seconds: float, workers: int, out: Path
    ) -> LoadResult:
        if self.vegeta is None:
            argv = [sys.executable, "-m", "benchmarks.loadgen", "--targets", str(targets)]
            argv += ["--rate", str(rate), "--duration", str(seconds), "--workers", str(workers)]
            subprocess.run([*argv, "--output", str(out)], check=True)
            return LoadResult(**json.loads(out.read_text()))
        return self._vegeta(targets, rate, seconds, workers, out)

    def _vegeta(
        self, targets: Path, rate: int, seconds: float, workers: int, out: Path
    ) -> LoadResult:
        assert self.vegeta is not None
        argv = [self.vegeta, "attack", "-format=json", f"-targets={targets}"]
        argv += [f"-rate={rate}/1s", f"-duration={seconds}s", f"-output={out}"]
        if rate == 0:
            argv += [f"-workers={workers}", f"-max-workers={workers}"]
        subprocess.run(argv, check=True)
        report = subprocess.run(
            [self.vegeta, "report", "-type=json", str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures: dict[str, Any] = json.loads(report.stdout)
        codes: dict[str, int] = figures.get("status_codes") or {}
        ok = sum(n for code, n in codes.items() if code.startswith("2"))
        elapsed = (figures["duration"] + figures["wait"]) / 1e9
        return LoadResult(
            rate=rate,
            seconds=elapsed,
            requests=int(figures["requests"]),
            ok=ok,
            ok_per_s=ok / elapsed if elapsed else 0.0,
            p50_ms=figures["latencies"]["50th"] / 1e6,
            p99_ms=figures["latencies"]["99th"] / 1e6,
            status_codes=codes,
            errors=list(figures.get("errors") or [])[:5],
        )


def find_load_generator() -> LoadGenerator:
    """vegeta from .knooppunt/bench/bin or the PATH, else this module's own."""
    found = str(VEGETA) if VEGETA.exists() else shutil.which("vegeta")
    if found is None:
        return LoadGenerator("benchmarks.loadgen (asyncio + aiohttp, separate process)", None)
    version_file = VEGETA.with_name("vegeta.version")
    version = version_file.read_text().strip() if version_file.exists() else "(version unknown)"
    return LoadGenerator(f"vegeta {version}", found)


# The fallback generator itself, run as ``python -m benchmarks.loadgen``.


async def _generate(
    targets: list[dict[str, Any]], rate: int, seconds: float, workers: int
) -> LoadResult:
    latencies: list[float] = []
    codes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=workers if rate == 0 else 0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            target = targets[i % len(targets)]
            sent = time.perf_counter()
            try:
                async with session.post(
                    target["url"], data=target["body"], headers=target["headers"]
                ) as response:
                    await response.read()
                    codes[str(response.status)] += 1
            except (aiohttp.ClientError, OSError) as exc:
                errors[type(exc).__name__] += 1
                codes["0"] += 1
            latencies.append(time.perf_counter() - sent)

        started = time.perf_counter()
        deadline = started + seconds
        if rate == 0:
            counter = iter(range(sys.maxsize))

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    await one(next(counter))

            await asyncio.gather(*(worker() for _ in range(workers)))
        else:
            tasks = []
            for i in range(int(rate * seconds)):
                wait = started + i / rate - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    ok = sum(n for code, n in codes.items() if code.startswith("2"))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return LoadResult(
        rate=rate,
        seconds=elapsed,
        requests=len(latencies),
        ok=ok,
        ok_per_s=ok / elapsed,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        status_codes=dict(codes),
        errors=[f"{name}: {n}" for name, n in errors.most_common(5)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="The bench's own HTTP load generator.")
    parser.add_argument("--targets", required=True)
    parser.add_argument("--rate", type=int, required=True, help="requests/s; 0: as fast as it goes")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with open(args.targets) as lines:
        targets = [
            {
                "url": line["url"],
                "body": base64.b64decode(line["body"]),
                "headers": {k: v[0] for k, v in line["header"].items()},
            }
            for line in map(json.loads, lines)
        ]
    result = asyncio.run(_generate(targets, args.rate, args.duration, args.workers))
    with open(args.output, "w") as out:
        json.dump(asdict(result), out)


if __name__ == "__main__":
    main()
