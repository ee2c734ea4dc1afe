"""``knooppunt dlq list|show|replay``: a tenant's dead letters, without printing personal data.
Replayed letters are marked (hub.delivery.replays) and not replayed again without ``--force``."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from hub.delivery.dead_letters import (
    DeadLetterRecord,
    ReplayRecord,
    missing,
    not_replayed,
    read_dead_letters,
    replay,
    select,
)
from hub.delivery.replays import read_replays
from hub.errors import MAX_VALUE_CHARS, UsageError, cut
from hub.runtime.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["dlq_app"]

dlq_app = typer.Typer(no_args_is_help=True, help="A tenant's dead letters: list, show, replay.")

TenantOption = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id (gemeentecode).")]
DestinationOption = Annotated[
    str | None, typer.Option("--destination", "-d", help="Only letters for this destination.")
]
SinceOption = Annotated[
    datetime | None,
    typer.Option(
        help="Only letters written at or after this time (ISO 8601; without an offset, local time)."
    ),
]
OffsetOption = Annotated[
    list[str] | None, typer.Option("--offset", help="Only this letter, as partition:offset.")
]


_TENANT = re.compile(r"[0-9]{4}")
_OFFSET = re.compile(r"[0-9]+:[0-9]+")


def _letters(tenant: str) -> tuple[list[DeadLetterRecord], dict[str, ReplayRecord]]:
    """The tenant's dead letters and every recorded replay."""
    if not _TENANT.fullmatch(tenant):
        given = cut(repr(tenant), MAX_VALUE_CHARS)
        raise UsageError(f"--tenant is a CBS gemeentecode of four digits ('0363'), not {given}")
    settings = Settings()
    bootstrap, names = settings.kafka_bootstrap_servers, settings.topics

    async def read() -> tuple[list[DeadLetterRecord], dict[str, ReplayRecord]]:
        letters = await read_dead_letters(bootstrap, names.dead_letter(tenant))
        return letters, await read_replays(bootstrap, names.dlq_replays())

    return asyncio.run(read())


def _replayed(replays: dict[str, ReplayRecord], letter: DeadLetterRecord) -> str:
    record = replays.get(letter.name)
    return "" if record is None else f"replayed at {record.at.isoformat()[:19]} by {record.by}"


def _offsets(given: list[str]) -> list[str]:
    for offset in given:
        if not _OFFSET.fullmatch(offset):
            shown = cut(repr(offset), MAX_VALUE_CHARS)
            raise UsageError(f"a letter is named as partition:offset ('0:12'), not {shown}")
    return given


def _check_selection(
    letters: Sequence[DeadLetterRecord],
    tenant: str,
    destination: str | None = None,
    offsets: Sequence[str] = (),
) -> None:
    """UsageError when a letter or destination asked for is not among the tenant's letters
    (a typo selected nothing and said "0 dead letter(s) replayed", exit 0). The hub cannot tell
    a destination's typo from a destination without letters: one that no letter names is
    refused, with the destinations the letters do name."""
    absent = missing(letters, offsets)
    if absent:
        named = ", ".join(cut(offset, MAX_VALUE_CHARS) for offset in absent[:5])
        more = f" and {len(absent) - 5} more" if len(absent) > 5 else ""
        raise UsageError(
            f"no dead letter {named}{more} for tenant {tenant} ('dlq list' lists them)"
        )
    if destination is not None and all(x.destination != destination for x in letters):
        named = ", ".join(sorted({x.destination for x in letters if x.destination})) or "none"
        raise UsageError(
            f"no dead letter of tenant {tenant} is for destination "
            f"{cut(repr(destination), MAX_VALUE_CHARS)} (destinations with letters: {named}; "
            "'dlq list' lists them)"
        )


@dlq_app.command("list")
def dlq_list(
    tenant: TenantOption,
    destination: DestinationOption = None,
    since: SinceOption = None,
) -> None:
    """One line per dead letter: where, when, what failed and why (no payloads), and when it
    was replayed."""
    every, replays = _letters(tenant)
    letters = select(every, destination, since)
    for letter in letters:
        s = letter.summary()
        line = f"{s['offset']:<8} {s['failed_at'][:19]:<19} {s['destination']:<14} "
        line += f"attempts={s['attempts']:<2} {s['error']:<22} {s['type']} {s['event_id']}"
        replayed = _replayed(replays, letter)
        typer.echo(f"{line}  {s['message']}" + (f"  [{replayed}]" if replayed else ""))
    waiting = len(not_replayed(letters, replays))
    typer.echo(f"{len(letters)} dead letter(s) for tenant {tenant}, {waiting} not replayed")
    if destination is not None and all(x.destination != destination for x in every):
        # not an error: a destination without letters is the good case (a typo looks the same)
        named = ", ".join(sorted({x.destination for x in every if x.destination})) or "none"
        typer.echo(
            f"no letter is for destination {cut(repr(destination), MAX_VALUE_CHARS)} "
            f"(destinations with letters: {named})"
        )


@dlq_app.command("show")
def dlq_show(
    tenant: TenantOption,
    offset: Annotated[str, typer.Argument(help="The letter, as partition:offset.")],
) -> None:
    """One dead letter in full: headers and payload, personal data redacted."""
    wanted = _offsets([offset])
    every, replays = _letters(tenant)
    letters = select(every, offsets=wanted)
    _check_selection(every, tenant, offsets=wanted)
    shown = letters[0].shown()
    record = replays.get(letters[0].name)
    shown["replayed"] = None if record is None else {"at": record.at.isoformat(), "by": record.by}
    typer.echo(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())


@dlq_app.command("replay")
def dlq_replay(
    tenant: TenantOption,
    destination: DestinationOption = None,
    since: SinceOption = None,
    offset: OffsetOption = None,
    dry_run: Annotated[bool, typer.Option(help="Only say what would be replayed.")] = False,
    force: Annotated[
        bool, typer.Option(help="Replay letters that were replayed before, too.")
    ] = False,
) -> None:
    """Send the selected dead letters back where they failed (after the cause is fixed);
    letters replayed before are skipped unless --force. An --offset that names no letter, or
    a --destination no letter is for, is refused before anything is sent (exit 2)."""
    wanted = _offsets(offset or [])
    every, replays = _letters(tenant)
    _check_selection(every, tenant, destination, wanted)
    selected = select(every, destination, since, wanted)
    letters = selected if force else not_replayed(selected, replays)
    for letter in selected:
        if letter not in letters:
            typer.echo(
                f"skipping {letter.partition}:{letter.offset}: {_replayed(replays, letter)} "
                "(--force replays it again)"
            )
    for letter in letters:
        verb = "would replay" if dry_run else "replaying"
        typer.echo(f"{verb} {letter.partition}:{letter.offset} -> {letter.replay_topic}")
    if not dry_run and letters:
        settings = Settings()
        asyncio.run(
            replay(settings.kafka_bootstrap_servers, letters, settings.topics.dlq_replays(), "cli")
        )
    skipped = len(selected) - len(letters)
    typer.echo(
        f"{len(letters)} dead letter(s) {'selected' if dry_run else 'replayed'}"
        + (f", {skipped} skipped (replayed before)" if skipped else "")
    )
