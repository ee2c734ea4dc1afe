"""``knooppunt routes test FILE``: prove routes with YAML test cases, without Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.errors import ConfigError
from hub.routing.route_tests import CaseResult, RouteTestReport, run_route_tests

__all__ = ["case_line", "exit_code", "routes_app"]

routes_app = typer.Typer(no_args_is_help=True, help="Prove routes with test cases, no Kafka.")

_LABELS = {"passed": "PASS", "failed": "FAIL", "invalid": "ERROR"}


def case_line(result: CaseResult) -> str:
    """``PASS <name> (file:line)``, or ``FAIL``/``ERROR`` with the reason after a colon."""
    line = f"{_LABELS[result.outcome]} {result.name} ({result.where})"
    return line if result.outcome == "passed" else f"{line}: {result.explanation}"


def exit_code(report: RouteTestReport) -> int:
    """0 when every case passed, 1 when one failed, 2 when one is invalid (the file is wrong)."""
    if report.count("invalid"):
        return 2
    return 1 if report.count("failed") else 0


def _summary(report: RouteTestReport) -> str:
    text = f"{report.count('passed')} passed, {report.count('failed')} failed"
    invalid = report.count("invalid")
    return f"{text}, {invalid} invalid" if invalid else text


@routes_app.command("test")
def routes_test(
    file: Annotated[Path, typer.Argument(help="Route test file (YAML).")],
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Hub config to test [the one FILE names]."),
    ] = None,
) -> None:
    """Run every case of FILE against the hub config: one line per case, then a count.

    Exit 0 when all pass, 1 when a case fails, 2 when FILE, a case or the config is invalid.
    """
    try:
        report = run_route_tests(file, config)
    except ConfigError as exc:
        count = len(exc.issues)
        typer.echo(f"error: route tests not run ({count} problem{'s' * (count != 1)}):", err=True)
        for issue in exc.issues:
            typer.echo(f"  {issue}", err=True)
        raise typer.Exit(2) from exc
    for result in report.results:
        typer.echo(case_line(result))
    typer.echo(_summary(report))
    raise typer.Exit(exit_code(report))
