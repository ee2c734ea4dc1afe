"""``knooppunt destinations status``: each push destination's circuit and load, from a running
hub (its ``/destinations`` endpoint). ``knooppunt destinations release``: release a blocked
destination (hub.delivery.blocks), a record on Kafka every delivery process follows."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import typer
from aiokafka.errors import KafkaError

from connectors.registry import sink_connector
from hub.cli.common import ConfigOption, HubUrlOption, load
from hub.cli.errors import explain
from hub.delivery.blocks import BLOCKED, RELEASED, read_blocks, write_block
from hub.errors import KnooppuntError, UsageError
from hub.kafka.producing import RecordProducer
from hub.runtime.settings import Settings

__all__ = ["destinations_app"]

destinations_app = typer.Typer(no_args_is_help=True, help="Push destinations of a running hub.")


@destinations_app.command("status")
def destinations_status(
    url: HubUrlOption = None,
) -> None:
    """One line per push destination: circuit (closed, half_open, open, blocked), deliveries
    in flight and waiting. A process without the delivery role lists none."""
    settings = Settings()
    base = url or f"http://{settings.http_host}:{settings.http_port}"
    try:
        answer = httpx.get(f"{base}/destinations", timeout=5.0)
    except httpx.TransportError as exc:
        raise KnooppuntError(
            f"the hub at {base} does not answer ({type(exc).__name__}); is it running? Start it "
            "with 'make run' (or 'knooppunt run'), or pass --url"
        ) from exc
    answer.raise_for_status()
    rows = answer.json()
    for row in rows:
        circuit = row["circuit"]
        if circuit == "open":
            circuit = f"open (probe in {row['reopens_in_s']:g} s)"
        elif circuit == "blocked":
            circuit = "BLOCKED (release it)"
        typer.echo(
            f"{row['tenant']} {row['destination']:<20} circuit {circuit:<22} "
            f"in flight {row['in_flight']}/{row['max_in_flight']}  waiting {row['waiting']}  "
            f"failures in a row {row['failures_in_a_row']}"
        )
    typer.echo(f"{len(rows)} push destination(s) at {base}")


@destinations_app.command("release")
def destinations_release(
    config: ConfigOption,
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="Tenant id (gemeentecode).")],
    destination: Annotated[str, typer.Option("--destination", "-d", help="Destination name.")],
) -> None:
    """Release a blocked push destination: every delivery process calls it again at once, with
    the events that waited in Kafka. One that is not blocked is left as it is."""
    hub_config = load(config)
    found = hub_config.tenant(tenant)
    if found is None:
        known = ", ".join(t.id for t in hub_config.tenants)
        raise UsageError(f"{config}: no tenant {tenant!r} (known: {known})")
    named = {d.name: d for d in found.destinations}
    if destination not in named:
        known = ", ".join(named)
        raise UsageError(
            f"{config}: tenant {tenant} has no destination {destination!r} (known: {known})"
        )
    spec = sink_connector(named[destination].connector)
    if spec is None or not spec.pushes:
        raise UsageError(
            f"{config}: {tenant} {destination} is read from its topic by the back office; the "
            "hub does not call it, so it is never blocked"
        )
    settings = Settings()
    names = settings.topics
    topic = names.destination(tenant, destination)

    async def release() -> str:
        bootstrap = settings.kafka_bootstrap_servers
        blocks = await read_blocks(bootstrap, names.destination_blocks())
        current = blocks.get(topic)
        if current is None or current.state != BLOCKED:
            return f"{tenant} {destination} is not blocked: nothing to release"
        producer = RecordProducer(bootstrap, client_id="knooppunt-cli")
        try:
            await producer.start()
            await write_block(
                producer,
                names.destination_blocks(),
                topic,
                RELEASED,
                "knooppunt destinations release",
            )
        finally:
            await producer.stop()
        return f"released {tenant} {destination} (blocked since {current.at:%Y-%m-%d %H:%M}Z)"

    try:
        typer.echo(asyncio.run(release()))
    except KafkaError as exc:
        raise KnooppuntError(f"{explain(exc)[1]}; nothing released") from exc
