"""``knooppunt destinations status``: each push destination's circuit and load, from a running
hub (its ``/destinations`` endpoint). ``knooppunt destinations release``: release a blocked
destination (hub.delivery.blocks), a record on Kafka every delivery process follows."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import typer

from hub.cli.common import ConfigOption, load
from hub.delivery.blocks import RELEASED, write_block
from hub.errors import KnooppuntError
from hub.kafka.producing import RecordProducer
from hub.runtime.settings import Settings

__all__ = ["destinations_app"]

destinations_app = typer.Typer(no_args_is_help=True, help="Push destinations of a running hub.")


@destinations_app.command("status")
def destinations_status(
    url: Annotated[
        str | None, typer.Option(help="Hub URL [http://KNOOPPUNT_HTTP_HOST:PORT].")
    ] = None,
) -> None:
    """One line per push destination: circuit (closed, half_open, open), deliveries in flight
    and waiting. A process without the delivery role lists none."""
    settings = Settings()
    base = url or f"http://{settings.http_host}:{settings.http_port}"
    try:
        answer = httpx.get(f"{base}/destinations", timeout=5.0)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise KnooppuntError(f"{base}/destinations: {exc} (is the hub running?)") from exc
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
    the events that waited in Kafka. Releasing one that is not blocked does nothing."""
    hub_config = load(config)
    found = hub_config.tenant(tenant)
    if found is None:
        raise KnooppuntError(f"{config}: no tenant {tenant!r}")
    if destination not in {d.name for d in found.destinations}:
        raise KnooppuntError(f"{config}: tenant {tenant} has no destination {destination!r}")
    settings = Settings()
    names = settings.topics

    async def release() -> None:
        producer = RecordProducer(settings.kafka_bootstrap_servers, client_id="knooppunt-cli")
        await producer.start()
        try:
            await write_block(
                producer,
                names.destination_blocks(),
                names.destination(tenant, destination),
                RELEASED,
                "knooppunt destinations release",
            )
        finally:
            await producer.stop()

    asyncio.run(release())
    typer.echo(f"released {tenant} {destination}: its deliveries start again")
