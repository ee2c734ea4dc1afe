"""``knooppunt abonnementen list|show|replay``: a municipality's abonnementen of the
Notificaties API (docs/notificaties.md) with their delivery state, as Open Notificaties' admin
shows them, per municipality: callback, kanalen and filters, circuit, deliveries and failures
in the running hub (its ``/destinations``), and the dead letters of each; replay of one
abonnement's dead letters after its subscriber is fixed. ``auth`` is never printed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import httpx
import orjson
import typer

from hub.cli.common import HubUrlOption
from hub.delivery.dead_letters import (
    DeadLetterRecord,
    not_replayed,
    read_dead_letters,
    replay,
    select,
)
from hub.delivery.replays import read_replays
from hub.errors import UsageError
from hub.kafka.admin import partitions_of
from hub.notificaties.destinations import destination_name
from hub.notificaties.store import AbonnementenStore
from hub.runtime.settings import Settings

if TYPE_CHECKING:
    from hub.notificaties.domain import Abonnement

__all__ = ["abonnementen_app"]

abonnementen_app = typer.Typer(
    no_args_is_help=True,
    help="Notificaties API abonnementen of a tenant: list, show, replay their dead letters.",
)
TenantOption = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id (gemeentecode).")]
IdArgument = Annotated[str, typer.Argument(help="The abonnement's id (the uuid in its url).")]


@dataclass(frozen=True)
class _View:
    abonnementen: list[Abonnement]
    state: dict[str, dict[str, Any]]  # destination -> the running hub's /destinations row
    state_note: str  # why there is no state, or ""
    letters: list[DeadLetterRecord]


async def _read(settings: Settings, tenant: str) -> tuple[list[Abonnement], list[DeadLetterRecord]]:
    topic = settings.topics.dead_letter(tenant)
    if not await partitions_of(settings.kafka_bootstrap_servers, [topic]):
        # every tenant of the config has its dead-letter topic from the hub's first start
        raise UsageError(
            f"no tenant {tenant} at {settings.kafka_bootstrap_servers} (it has no dead-letter "
            f"topic {topic}): is the tenant in the config, and has the hub run with it?"
        )
    store = AbonnementenStore(settings.kafka_bootstrap_servers, settings.topics)
    await store.start()
    try:
        mine = sorted(store.for_tenant(tenant), key=lambda a: str(a.id))
    finally:
        await store.stop()
    letters = await read_dead_letters(settings.kafka_bootstrap_servers, topic)
    replays = await read_replays(settings.kafka_bootstrap_servers, settings.topics.dlq_replays())
    return mine, not_replayed(letters, replays)  # a letter replayed is not waiting any more


def _state(base: str, tenant: str) -> tuple[dict[str, dict[str, Any]], str]:
    try:
        answer = httpx.get(f"{base}/destinations", timeout=5.0)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        return {}, f"no delivery state: {base} did not answer ({type(exc).__name__})"
    rows = [row for row in answer.json() if row.get("tenant") == tenant]
    return {row["destination"]: row for row in rows}, ""


def _view(tenant: str, url: str | None, with_state: bool = True) -> _View:
    settings = Settings()
    if not tenant.isascii() or not tenant.isdigit() or len(tenant) != 4:
        raise UsageError(f"--tenant {tenant!r}: a tenant id is a four-digit gemeentecode")
    abonnementen, letters = asyncio.run(_read(settings, tenant))
    if not with_state:
        return _View(abonnementen, {}, "", letters)
    base = url or f"http://{settings.http_host}:{settings.http_port}"
    state, note = _state(base, tenant)
    return _View(abonnementen, state, note, letters)


def _summary(abonnement: Abonnement, view: _View) -> dict[str, Any]:
    name = destination_name(abonnement.id)
    row = view.state.get(name)
    letters = select(view.letters, destination=name)
    return {
        "id": str(abonnement.id),
        "callbackUrl": abonnement.callback_url,
        "client": abonnement.client,
        "kanalen": orjson.dumps({k.naam: dict(k.filters) for k in abonnement.kanalen}).decode(),
        "circuit": row["circuit"] if row else "-",
        "delivered": row["delivered"] if row else "-",
        "failed": row["failed"] if row else "-",
        "failures_in_a_row": row["failures_in_a_row"] if row else "-",
        "last_delivered_at": (row or {}).get("last_delivered_at") or "-",
        "last_failed_at": (row or {}).get("last_failed_at") or "-",
        "dead_letters": len(letters),
    }


@abonnementen_app.command("list")
def abonnementen_list(tenant: TenantOption, url: HubUrlOption = None) -> None:
    """One line per abonnement of the tenant: callback, kanalen, circuit, deliveries since the
    hub started, last success, dead letters."""
    view = _view(tenant, url)
    for abonnement in view.abonnementen:
        s = _summary(abonnement, view)
        kanalen = ",".join(k.naam for k in abonnement.kanalen) or "-"
        typer.echo(
            f"{s['id']}  {kanalen:<12} circuit {s['circuit']:<9} delivered {s['delivered']:<5} "
            f"failed {s['failed']:<4} last ok {s['last_delivered_at'][:19]:<19} "
            f"dead letters {s['dead_letters']:<3} {s['callbackUrl']}"
        )
    if view.state_note:
        typer.echo(view.state_note)
    typer.echo(f"{len(view.abonnementen)} abonnement(en) for tenant {tenant}")


def _parsed_id(abonnement_id: str) -> UUID:
    try:
        return UUID(abonnement_id)
    except ValueError:
        raise UsageError(f"{abonnement_id!r} is not an abonnement id (a uuid)") from None


def _one(view: _View, tenant: str, wanted: UUID) -> Abonnement:
    found = next((a for a in view.abonnementen if a.id == wanted), None)
    if found is None:
        raise UsageError(f"tenant {tenant} has no abonnement {wanted}")
    return found


@abonnementen_app.command("show")
def abonnementen_show(
    tenant: TenantOption, abonnement_id: IdArgument, url: HubUrlOption = None
) -> None:
    """One abonnement: its callback, kanalen and filters, delivery state and each dead letter
    (partition:offset, when, why); ``knooppunt dlq show`` shows a letter whole."""
    wanted = _parsed_id(abonnement_id)  # before Kafka: a typo needs no broker to be told
    view = _view(tenant, url)
    abonnement = _one(view, tenant, wanted)
    for key, value in _summary(abonnement, view).items():
        typer.echo(f"{key + ':':<19} {value}")
    typer.echo(f"{'destination:':<19} {destination_name(abonnement.id)}")
    typer.echo(f"{'auth:':<19} {'(set, not shown)' if abonnement.auth else '(none)'}")
    if view.state_note:
        typer.echo(view.state_note)
    for letter in select(view.letters, destination=destination_name(abonnement.id)):
        s = letter.summary()
        typer.echo(
            f"  dead letter {s['offset']:<8} {s['failed_at'][:19]} {s['error']}: {s['message']}"
        )


@abonnementen_app.command("replay")
def abonnementen_replay(
    tenant: TenantOption,
    abonnement_id: IdArgument,
    dry_run: Annotated[bool, typer.Option(help="Only say what would be replayed.")] = False,
) -> None:
    """Send the abonnement's dead letters back to its callback (after the subscriber is
    fixed), like Open Notificaties' resend, for this municipality only. Letters replayed before
    are not waiting any more and are left (``knooppunt dlq replay --force`` sends them again);
    with none waiting it says so (exit 0)."""
    wanted = _parsed_id(abonnement_id)
    view = _view(tenant, None, with_state=False)
    abonnement = _one(view, tenant, wanted)
    letters = select(view.letters, destination=destination_name(abonnement.id))
    if not letters:  # said, not "0 dead letter(s) replayed" as if something was done
        typer.echo(
            f"abonnement {abonnement.id} has no dead letters waiting: nothing to replay (letters "
            "replayed before: 'knooppunt dlq replay --force --destination "
            f"{destination_name(abonnement.id)}')"
        )
        return
    for letter in letters:
        verb = "would replay" if dry_run else "replaying"
        typer.echo(f"{verb} {letter.partition}:{letter.offset} -> {letter.replay_topic}")
    if not dry_run and letters:
        settings = Settings()  # each replay recorded, so `dlq list` marks the letters replayed
        asyncio.run(
            replay(settings.kafka_bootstrap_servers, letters, settings.topics.dlq_replays(), "cli")
        )
    typer.echo(f"{len(letters)} dead letter(s) {'selected' if dry_run else 'replayed'}")
