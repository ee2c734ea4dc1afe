"""``knooppunt destinations status``: each push destination's circuit and load, from a running
hub (its ``/destinations`` endpoint)."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer

from hub.errors import KnooppuntError
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
        typer.echo(
            f"{row['tenant']} {row['destination']:<20} circuit {circuit:<22} "
            f"in flight {row['in_flight']}/{row['max_in_flight']}  waiting {row['waiting']}  "
            f"failures in a row {row['failures_in_a_row']}"
        )
    typer.echo(f"{len(rows)} push destination(s) at {base}")
