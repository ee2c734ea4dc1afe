"""A replay or a selection of dead letters that are not there says so (exit 2) before anything
is sent: found by a new user, `dlq replay --offset 0:999` and `--destination nope` said
"0 dead letter(s) replayed", exit 0, where `dlq show 0:999` said there is no such letter."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

from hub.delivery.dead_letters import DeadLetterRecord
from hub.delivery.replays import ReplayRecord

LETTERS = [
    DeadLetterRecord(
        topic="knooppunt.0599.dead-letter",
        partition=0,
        offset=offset,
        timestamp=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        key=None,
        value=b"{}",
        raw_headers=(("knooppunt_destination", b"zaaksysteem"),),
    )
    for offset in (0, 1)
]


@pytest.fixture(autouse=True)
def _letters(monkeypatch: pytest.MonkeyPatch) -> None:
    def letters(tenant: str) -> tuple[list[DeadLetterRecord], dict[str, ReplayRecord]]:
        return LETTERS, {}

    monkeypatch.setattr("hub.cli.dlq._letters", letters)


def _cli(*args: str) -> Result:
    from hub.cli.main import app  # noqa: PLC0415

    return CliRunner().invoke(app, list(args), prog_name="knooppunt")


def _one_line(result: Result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""  # nothing replayed, nothing said selected
    [line] = result.stderr.splitlines()
    return line


@pytest.mark.parametrize("offset", ["0:999", "5:0"])
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_replaying_a_letter_that_is_not_there_is_refused(offset: str, dry_run: list[str]) -> None:
    args = ["dlq", "replay", "--tenant", "0599", "--offset", "0:1", "--offset", offset]
    line = _one_line(_cli(*args, *dry_run))
    assert line == f"error: no dead letter {offset} for tenant 0599 ('dlq list' lists them)"


@pytest.mark.parametrize("command", [["replay", "--dry-run"], ["replay"]])
def test_a_destination_no_letter_is_for_is_refused(command: list[str]) -> None:
    line = _one_line(_cli("dlq", *command, "--tenant", "0599", "--destination", "nope"))
    assert line == (
        "error: no dead letter of tenant 0599 is for destination 'nope' (destinations with "
        "letters: zaaksysteem; 'dlq list' lists them)"
    )


def test_listing_a_destination_without_letters_is_no_error_but_says_which_have() -> None:
    result = _cli("dlq", "list", "--tenant", "0599", "--destination", "nope")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "0 dead letter(s) for tenant 0599, 0 not replayed",
        "no letter is for destination 'nope' (destinations with letters: zaaksysteem)",
    ]


def test_a_huge_offset_or_destination_is_echoed_cut_short() -> None:
    huge = "9" * 100_000
    for args in (
        ["replay", "--offset", f"0:{huge}", "--dry-run"],
        ["replay", "--offset", huge, "--dry-run"],
        ["replay", "--destination", huge, "--dry-run"],
    ):
        line = _one_line(_cli("dlq", *args, "--tenant", "0599"))
        assert len(line) < 300, args
        assert "…" in line


def test_the_letters_there_are_still_selected() -> None:
    result = _cli(
        "dlq", "replay", "-t", "0599", "-d", "zaaksysteem", "--offset", "0:1", "--dry-run"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1 dead letter(s) selected"


def test_an_abonnement_without_letters_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """`abonnementen replay` of an abonnement with no letters waiting said "0 dead letter(s)
    replayed", as if something was done."""
    from hub.cli import abonnementen  # noqa: PLC0415
    from hub.notificaties.domain import Abonnement  # noqa: PLC0415

    mine = Abonnement(UUID(int=7), ("0599",), "https://bo.example/callback", "")
    view = abonnementen._View([mine], {}, "", LETTERS)  # letters of another destination
    monkeypatch.setattr(abonnementen, "_view", lambda *_args, **_kwargs: view)
    result = _cli("abonnementen", "replay", "--tenant", "0599", str(mine.id))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"abonnement {mine.id} has no dead letters waiting")
