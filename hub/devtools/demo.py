"""``knooppunt demo``: send sample submissions to a running hub and show which topics they reached.

It posts each submission over HTTP (as an e-forms system would), then reads the destination
topics of the demo tenants from Kafka and prints, per submission, every topic its event reached.
A hub that cannot be reached, or that refuses a submission, ends the demo with an error that
says why (``DemoRefusedError``, and the command exits 1).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from aiokafka import AIOKafkaConsumer

from hub.config import client_secret
from hub.errors import KnooppuntError, UsageError
from hub.http.auth import make_token
from hub.kafka.admin import partitions_of
from hub.kafka.clients import start_client
from hub.kafka.headers import text_headers
from hub.kafka.topics import TopicNames

if TYPE_CHECKING:
    from collections.abc import Callable

    from hub.config import HubConfig

__all__ = [
    "DemoRefusedError",
    "DemoResult",
    "demo_main",
    "refusal",
    "run_demo",
    "sample_submissions",
]


class DemoRefusedError(KnooppuntError):
    """The hub could not be reached, or refused submissions of the demo."""


DEMO_BSN = "999993653"  # a test BSN from the RvIG test set; passes the 11-proef


@dataclass
class DemoResult:
    tenant: str
    form_id: str
    event_id: str | None
    status: int
    reached: list[str]
    detail: str = ""


def sample_submissions(config: HubConfig) -> list[tuple[str, dict[str, Any]]]:
    """Per tenant: one submission per form id its routes name, plus one no route takes."""
    samples: list[tuple[str, dict[str, Any]]] = []
    for tenant in config.tenants:
        form_ids = []
        for route in config.routes_of(tenant.id):
            wanted = route.when.get("form.id", "aanvraag-algemeen")
            form_ids.extend(wanted if isinstance(wanted, list) else [wanted])
        form_ids.append("formulier-zonder-route")
        for form_id in dict.fromkeys(str(f) for f in form_ids):
            samples.append((tenant.id, _submission(form_id)))
    return samples


def _submission(form_id: str) -> dict[str, Any]:
    submission_id = uuid.uuid4()
    return {
        "submission_id": str(submission_id),
        "reference": f"OF-{submission_id.hex[:6].upper()}",
        "form": {"id": form_id, "name": form_id.replace("-", " ").capitalize()},
        "language": "nl",
        "submitted_at": datetime.now(UTC).isoformat(),
        "authentication": {"method": "digid", "level_of_assurance": "substantial", "bsn": DEMO_BSN},
        "values": {"toelichting": "Ingediend door knooppunt demo"},
    }


async def run_demo(
    config: HubConfig,
    url: str,
    bootstrap: str,
    names: TopicNames,
    client_id: str | None = None,
    wait_s: float = 15.0,
) -> list[DemoResult]:
    client = config.client(client_id) if client_id else next(iter(config.clients), None)
    if client is None:
        known = ", ".join(c.id for c in config.clients) or "none"
        raise UsageError(
            f"{config.source}: no API client {client_id or ''!r} to send the demo as "
            f"(clients: {known})"
        )
    token = make_token(client.id, client_secret(config, client))
    await _hub_answers(url)  # before Kafka: without a hub, that is what to start
    topics = [names.destination(t.id, d.name) for t in config.tenants for d in t.destinations]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await start_client(consumer)
        partitions = await partitions_of(bootstrap, topics)
        consumer.assign(partitions)
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)  # read only what this demo run causes
        results = await _post_all(config, url, token, client.tenants)
        await _collect(consumer, results, wait_s)
    finally:
        await consumer.stop()
    return results


async def _hub_answers(url: str) -> None:
    """DemoRefusedError when nothing answers at ``url`` (its /healthz)."""
    async with httpx.AsyncClient(base_url=url, timeout=5.0) as http:
        try:
            await http.get("/healthz")
        except httpx.TransportError as exc:
            raise _unreachable(url, exc) from exc


def _unreachable(url: str, exc: httpx.TransportError) -> DemoRefusedError:
    return DemoRefusedError(
        f"the hub at {url} does not answer ({type(exc).__name__}: {str(exc) or 'no answer'}); "
        "start it in another shell with 'make run', or pass --url"
    )


async def _post_all(
    config: HubConfig, url: str, token: str, tenants: list[str]
) -> list[DemoResult]:
    results = []
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
        for tenant, body in sample_submissions(config):
            if tenant not in tenants:
                continue
            try:
                response = await http.post(
                    f"/api/v1/tenants/{tenant}/submissions",
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                raise _unreachable(url, exc) from exc
            answer = _json_object(response)
            results.append(
                DemoResult(
                    tenant=tenant,
                    form_id=body["form"]["id"],
                    event_id=answer.get("id") if response.status_code == 202 else None,
                    status=response.status_code,
                    reached=[],
                    detail="" if response.status_code == 202 else str(answer.get("detail")),
                )
            )
    return results


async def _collect(consumer: AIOKafkaConsumer, results: list[DemoResult], wait_s: float) -> None:
    """Read destination topics until every expected copy is seen or ``wait_s`` passes quietly."""
    by_id = {r.event_id: r for r in results if r.event_id}
    deadline = time.monotonic() + wait_s
    quiet_until = time.monotonic() + 3.0  # unrouted events never arrive: stop after a quiet spell
    while time.monotonic() < min(deadline, quiet_until):
        batches = await consumer.getmany(timeout_ms=500)
        for records in batches.values():
            for record in records:
                event_id = text_headers(record.headers).get("ce_id", "")
                if event_id in by_id:
                    by_id[event_id].reached.append(record.topic)
                    quiet_until = time.monotonic() + 3.0


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer as a JSON object; an answer that is not one (not the hub at that URL) stands
    in with its status line as ``detail``."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        return answer
    kind = response.headers.get("content-type", "no content type")
    return {"detail": f"not the hub's answer ({kind}); is --url the hub?"}


_REFUSAL_HINTS = {
    401: "the demo's client secret is not the one the hub has: give the demo the config the "
    "hub runs with (--config)",
    403: "the hub's config does not let this client act for that tenant: give the demo the "
    "config the hub runs with (--config)",
    404: "the hub's config has no such tenant: give the demo the config the hub runs with "
    "(--config)",
}


def refusal(results: list[DemoResult]) -> str | None:
    """One sentence on the submissions the hub refused (the most frequent reason, and what to
    do about it); None when it took every one."""
    refused = [r for r in results if r.status != 202]
    if not refused:
        return None
    (status, detail), _ = Counter((r.status, r.detail) for r in refused).most_common(1)[0]
    hint = _REFUSAL_HINTS.get(status, "see the hub's log")
    return (
        f"the hub refused {len(refused)} of {len(results)} submissions (HTTP {status}: "
        f"{detail}); {hint}"
    )


def format_results(results: list[DemoResult]) -> str:
    lines = []
    for r in results:
        if r.status != 202:
            lines.append(f"{r.tenant} {r.form_id:<28} refused: HTTP {r.status} {r.detail}")
        elif r.reached:
            lines.append(f"{r.tenant} {r.form_id:<28} -> {', '.join(sorted(r.reached))}")
        else:
            lines.append(f"{r.tenant} {r.form_id:<28} -> no destination (matched no route)")
    return "\n".join(lines)


def demo_main(
    config: HubConfig,
    url: str,
    bootstrap: str,
    names: TopicNames,
    client_id: str | None,
    echo: Callable[[str], Any] = print,
) -> None:
    """Run the demo and ``echo`` a line per submission; DemoRefusedError when the hub refused
    any (after the lines, so each one's reason shows)."""
    results = asyncio.run(run_demo(config, url, bootstrap, names, client_id))
    echo(format_results(results))
    problem = refusal(results)
    if problem is not None:
        raise DemoRefusedError(problem)
