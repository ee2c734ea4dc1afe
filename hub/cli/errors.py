"""How a ``knooppunt`` command ends when something goes wrong, drawn once: one line on stderr
that says what to do, and an exit code that says whose move it is. Never a traceback, unless
asked for with ``--debug`` (or ``KNOOPPUNT_DEBUG=1``).

- ``USAGE`` (2): the command cannot work as given. Change the command line, a file, the config
  or a ``KNOOPPUNT_*`` setting, and run it again.
- ``RUNTIME`` (1): the command was right, but what it needs failed or did not answer (Kafka,
  the hub, a back office, the blob store), or a check it ran found something (a route test
  failed, a document is out of date, the local broker is not running).

The hub's own errors (``KnooppuntError`` and below) carry their message; the errors of the
libraries a command goes through (aiokafka, confluent-kafka, httpx, the operating system) are
recognised here and said in words. Anything else is a bug: still one line, naming how to see
the traceback.
"""

from __future__ import annotations

import os
import traceback
from typing import TYPE_CHECKING, Any

import typer

# Typer 0.29 carries its own copy of click (typer._click), whose exceptions its commands raise.
from typer._click.core import Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from hub.errors import MAX_VALUE_CHARS, ConfigError, KnooppuntError, UsageError, cut

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic import ValidationError

__all__ = [
    "DEBUG_ENV",
    "RUNTIME",
    "USAGE",
    "KnooppuntGroup",
    "explain",
    "move_debug_flag",
    "setting_problems",
]

USAGE = 2
RUNTIME = 1
DEBUG_ENV = "KNOOPPUNT_DEBUG"
DEBUG_HINT = f"run again with --debug (or {DEBUG_ENV}=1) for the traceback"
_MAX_LIBRARY_TEXT = 300  # a library's message, cut: some hold a whole response body

_KAFKA_HINT = (
    "start the local broker with 'knooppunt kafka up', or set KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS "
    "to your cluster"
)


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= _MAX_LIBRARY_TEXT else line[: _MAX_LIBRARY_TEXT - 3] + "..."


def _kafka_bootstrap() -> str:
    """Where the command looked for Kafka (the setting, as the command read it)."""
    from hub.runtime.settings import Settings

    try:
        return Settings().kafka_bootstrap_servers
    except Exception:  # a setting out of range: the address is all this wants
        return os.environ.get("KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS", "the configured address")


def _kafka(exc: Exception) -> str | None:
    """Kafka's clients' errors in words (aiokafka's tree, confluent-kafka's exception)."""
    try:
        from aiokafka import errors as aiokafka_errors
    except ImportError:  # pragma: no cover - a dependency of the hub
        return None
    unreachable = (
        aiokafka_errors.KafkaConnectionError,
        aiokafka_errors.NoBrokersAvailable,
        aiokafka_errors.NodeNotReadyError,
        aiokafka_errors.KafkaTimeoutError,
        aiokafka_errors.RequestTimedOutError,
    )
    if isinstance(exc, unreachable):
        return f"Kafka at {_kafka_bootstrap()} does not answer; {_KAFKA_HINT}"
    if isinstance(exc, aiokafka_errors.KafkaError):
        return f"Kafka at {_kafka_bootstrap()} refused: {type(exc).__name__}: {_first_line(exc)}"
    from confluent_kafka import KafkaException

    if isinstance(exc, KafkaException):
        return f"Kafka at {_kafka_bootstrap()} failed: {_first_line(exc)}; {_KAFKA_HINT}"
    return None


def _http(exc: Exception) -> str | None:
    """httpx's errors: the CLI's client of the hub's own API (demo, destinations status)."""
    import httpx

    if not isinstance(exc, httpx.HTTPError):
        return None
    try:
        url = str(exc.request.url)
    except RuntimeError:  # an error raised before a request existed
        url = "the hub"
    if isinstance(exc, httpx.ConnectError):
        return (
            f"cannot connect to {url} ({_first_line(exc) or 'connection refused'}); is the hub "
            "running there? Start it with 'make run' (or 'knooppunt run'), or pass --url"
        )
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} did not answer in time ({type(exc).__name__}); is the hub overloaded?"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"{url} answered HTTP {exc.response.status_code}: {_first_line(exc.response.text)}"
    return f"{url}: {type(exc).__name__}: {_first_line(exc)}"


def setting_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """The Settings' refusal as ``(setting, what is wrong)`` pairs, one per problem; the
    value given echoed cut short (``'abc'``; a 5 MB value never makes the line long)."""
    from hub.runtime.settings import Settings

    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        field = Settings.model_fields.get(name)
        if error["type"] == "string_pattern_mismatch" and field and field.description:
            message = f"not in its form ({field.description.rstrip('.')})"  # not a raw regex
        given = error.get("input")
        if isinstance(given, str):
            message += f", got {cut(repr(given), MAX_VALUE_CHARS)}"
        problems.append((name, message))
    return problems


def _settings(exc: Exception) -> str | None:
    """A ``KNOOPPUNT_*`` setting (or the option that sets it) out of range."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError) or exc.title != "Settings":
        return None
    return "; ".join(
        f"setting {name} (KNOOPPUNT_{name.upper()}): {message}"
        for name, message in setting_problems(exc)
    )


def _secret_missing(exc: Exception) -> bool:
    from connectors.sdk.secrets import SecretMissingError

    return isinstance(exc, SecretMissingError)


def explain(exc: Exception) -> tuple[int, str]:
    """The exit code and the message (without ``error: ``) for an exception that ended a
    command. The hub's own messages are kept whole (a config's problems, one per line); a
    library's is cut to its first line."""
    if isinstance(exc, ConfigError | UsageError):
        return USAGE, str(exc)
    if isinstance(exc, KnooppuntError):
        return (USAGE if _secret_missing(exc) else RUNTIME), str(exc)
    for recognise in (_settings, _kafka, _http):
        said = recognise(exc)
        if said is not None:
            return (USAGE if recognise is _settings else RUNTIME), said
    if isinstance(exc, UnicodeDecodeError):
        return USAGE, f"a file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
    if isinstance(exc, TimeoutError):
        return RUNTIME, f"no answer in time ({_first_line(exc) or 'timed out'})"
    if isinstance(exc, ConnectionError):
        return RUNTIME, f"connection failed: {exc.strerror or _first_line(exc)}"
    if isinstance(exc, OSError):
        if exc.filename is not None:
            return USAGE, f"{exc.strerror or _first_line(exc)}: {exc.filename}"
        return RUNTIME, exc.strerror or _first_line(exc)
    return RUNTIME, f"unexpected {type(exc).__name__}: {_first_line(exc)} ({DEBUG_HINT})"


def _usage_line(exc: ClickUsageError) -> str:
    where = exc.ctx.command_path if exc.ctx is not None else "knooppunt"
    return f"{exc.format_message().rstrip('.')} (see '{where} --help')"


class KnooppuntGroup(TyperGroup):
    """The root command group: every command runs inside its ``invoke``, which turns whatever
    ends a command early into ``explain``'s line and exit code (the traceback too, with
    ``--debug``). Click's own usage errors become one line as well."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, NoArgsIsHelpError):
            raise
        except ClickUsageError as exc:
            typer.echo(f"error: {_usage_line(exc)}", err=True)
            raise typer.Exit(USAGE) from exc
        except ClickException:
            raise  # click says it in one line ("Error: ...")
        except Exception as exc:
            if ctx.params.get("debug"):
                traceback.print_exception(exc)
            code, message = explain(exc)
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from exc


def move_debug_flag(args: Sequence[str]) -> list[str]:
    """``--debug`` may be typed anywhere (``knooppunt dlq list -t 0363 --debug``): it is the
    root command's option, so it moves to the front. Arguments after ``--`` stay as they are."""
    end = list(args).index("--") if "--" in args else len(args)
    head, tail = list(args[:end]), list(args[end:])
    if "--debug" not in head:
        return [*head, *tail]
    return ["--debug", *(arg for arg in head if arg != "--debug"), *tail]
