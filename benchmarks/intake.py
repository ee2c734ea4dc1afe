"""Scenario ``intake``: acked submissions/s and latency of the hub next to the stack's ceiling.

Each is served as ``knooppunt run`` serves the hub (one uvicorn process, uvloop and httptools,
``hub.runtime.serving``) and loaded by the same load generator in a process of its own
(benchmarks.loadgen: vegeta where it installs):

- hub api: ``knooppunt run --role api --config deploy/demo/config.yaml``, the real intake (JWT
  of the demo client, I-JSON, validation, CloudEvent, publish with acks=all) in a process that
  does nothing else, as the intake is deployed when it has to take load (its router elsewhere;
  nothing routes during the run). ``ratio_hub_minimal`` is this one's;
- hub all roles: ``knooppunt run`` with every role, its router in the same process routing
  every accepted submission (``ratio_all_roles_minimal``);
- minimal: benchmarks.minimal_intake, a FastAPI endpoint that awaits one aiokafka send of the
  body (acks=all, idempotence) onto the same contract topic.

The same 1,000 distinct e-forms submissions (form ``parkeervergunning`` of tenant 0363) are sent
to each, in this order: a 2 s warm-up at 100/s (not reported), then each of
``BENCH_INTAKE_RATES`` (default 200 and 500 requests/s) for ``BENCH_INTAKE_SECONDS`` (p50 and
p99 of the time to the answer), then saturation: ``BENCH_INTAKE_WORKERS`` connections each
sending one request after another for ``BENCH_INTAKE_SECONDS`` (2xx answers per second).
Saturation comes last so that the router's backlog after it does not slow the fixed-rate steps.
Each step also records the CPU the served process spent per acknowledged request
(``cpu_ms_per_ok``): on a shared machine the throughput follows the CPU a process was given, its
cost per request does not.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import orjson

from benchmarks.hubs import CLIENT_ID, DEMO_CONFIG, DEMO_SECRET_FILE, fresh_prefix, hub_process
from benchmarks.kafka_io import SUBMITTED
from benchmarks.processes import BENCH_DIR, cpu_seconds, running, wait_until_ok
from hub.http.auth import make_token
from hub.kafka.topics import TopicNames
from tests.kafka_under_test import free_port
from tests.samples import submission

if TYPE_CHECKING:
    from benchmarks.loadgen import LoadGenerator, LoadResult
    from benchmarks.measure import BenchOptions

__all__ = ["run_intake"]

PATH = "/api/v1/tenants/0363/submissions"
# Every request a distinct submission: the hub answers a resent one from memory without
# publishing it (hub.connector_host.resends), which is not the intake's work. A hub gets at
# most ~70,000 requests here (6,000/s at saturation for 10 s, the fixed steps, the warm-up).
BODIES = 100_000
SETTLE_S = 2.0  # between steps, so that one step's stragglers are not the next one's load


@dataclass(frozen=True)
class Step:
    """One load step and the CPU the served process spent in it (utime + stime of its pid)."""

    result: LoadResult
    cpu_s: float

    def as_dict(self) -> dict[str, Any]:
        ok = self.result.ok
        return {**asdict(self.result), "cpu_ms_per_ok": self.cpu_s * 1000 / ok if ok else None}


def _steps(
    name: str,
    pid: int,
    generator: LoadGenerator,
    url: str,
    headers: dict[str, str],
    options: BenchOptions,
) -> dict[str, Step]:
    from benchmarks.loadgen import write_targets

    work = BENCH_DIR / "intake"
    work.mkdir(parents=True, exist_ok=True)
    targets = work / f"{name}.targets.jsonl"
    bodies = [orjson.dumps(submission("parkeervergunning")) for _ in range(BODIES)]
    write_targets(targets, url, headers, bodies)
    generator.attack(targets, 100, 2, 8, work / f"{name}-warmup.bin")

    def step(rate: int, workers: int, out: str) -> Step:
        before = cpu_seconds(pid)
        result = generator.attack(targets, rate, options.intake_seconds, workers, work / out)
        return Step(result, cpu_seconds(pid) - before)

    steps: dict[str, Step] = {}
    for rate in options.intake_rates:
        time.sleep(SETTLE_S)
        steps[str(rate)] = step(rate, options.intake_workers, f"{name}-{rate}.bin")
    time.sleep(SETTLE_S)
    steps["saturation"] = step(0, options.intake_workers, f"{name}-max.bin")
    for label, done in steps.items():
        result = done.result
        print(
            f"  intake {name} {label}: {result.ok_per_s:,.0f} acked/s, p50 {result.p50_ms:.1f} ms,"
            f" p99 {result.p99_ms:.1f} ms, {done.as_dict()['cpu_ms_per_ok'] or 0:.3f} CPU ms/ack,"
            f" codes {result.status_codes}",
            file=sys.stderr,
        )
    return steps


def run_intake(bootstrap: str, generator: LoadGenerator, options: BenchOptions) -> dict[str, Any]:
    prefix = fresh_prefix("intake")
    token = make_token(CLIENT_ID, DEMO_SECRET_FILE.read_text().strip())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with hub_process("intake-hub-api", DEMO_CONFIG, bootstrap, prefix, roles="api") as hub:
        api_steps = _steps("hub-api", hub.child.pid, generator, hub.base + PATH, headers, options)
    with hub_process("intake-hub", DEMO_CONFIG, bootstrap, fresh_prefix("intake")) as hub:
        all_steps = _steps("hub", hub.child.pid, generator, hub.base + PATH, headers, options)
    port = free_port()
    topic = TopicNames(prefix).contract(SUBMITTED)  # the api hub created it
    argv = [sys.executable, "-m", "benchmarks.minimal_intake", "--port", str(port)]
    argv += ["--bootstrap", bootstrap, "--topic", topic]
    with running(argv, "intake-minimal") as child:
        wait_until_ok(child, f"http://127.0.0.1:{port}/healthz", timeout_s=60)
        minimal_url = f"http://127.0.0.1:{port}{PATH}"
        minimal_steps = _steps("minimal", child.pid, generator, minimal_url, headers, options)
    minimal_max = minimal_steps["saturation"].result.ok_per_s

    def ratio(steps: dict[str, Step]) -> float | None:
        return steps["saturation"].result.ok_per_s / minimal_max if minimal_max else None

    return {
        "load_generator": generator.name,
        "path": PATH,
        "seconds_per_step": options.intake_seconds,
        "saturation_connections": options.intake_workers,
        "hub_api": {label: done.as_dict() for label, done in api_steps.items()},
        "hub": {label: done.as_dict() for label, done in all_steps.items()},
        "minimal": {label: done.as_dict() for label, done in minimal_steps.items()},
        "ratio_hub_minimal": ratio(api_steps),
        "ratio_all_roles_minimal": ratio(all_steps),
    }
