"""``knooppunt tail``: follow a topic as decoded CloudEvents, personal data masked, so an
integration engineer sees a route work without Kafka's console tools.

One JSON object per line (for ``jq`` and ``grep``): where the record is (``topic``,
``partition``, ``offset``, ``key``), the event's attributes (``type``, ``id``, ``source``,
``tenant``, ``subject``, ``time``...) and its ``data`` with every field its contract declares
personal data and anything that looks like personal data masked (the same masking as
``knooppunt dlq show``); a record that is no CloudEvent says why in ``error``."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from aiokafka import AIOKafkaConsumer

from contracts.cloudevents import CloudEvent
from contracts.errors import ContractError
from hub.errors import UsageError
from hub.kafka.admin import partitions_of
from hub.kafka.clients import start_client
from hub.observability.redaction import redact_shown, shown_payload
from hub.runtime.settings import Settings

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord, TopicPartition

__all__ = ["tail", "tail_line"]

_TENANT = re.compile(r"[0-9]{4}")


def tail_line(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    """One record as ``knooppunt tail`` prints it (see the module docstring)."""
    line: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": (record.key or b"").decode("utf-8", "replace"),
    }
    try:
        event = CloudEvent.from_kafka(record.headers or (), record.value)
        payload = orjson.loads(event.data or b"null")
    except (ContractError, orjson.JSONDecodeError) as exc:
        return {**line, "error": f"not a CloudEvent of the hub: {exc}"}
    attributes = {k: v for k, v in event.attributes().items() if k != "specversion"}
    return {
        **line,
        **redact_shown(attributes),
        "data": shown_payload(payload, event.type, event.dataschema),
    }


def _topic(
    settings: Settings, topic: str | None, tenant: str | None, destination: str | None
) -> str:
    if topic is not None and (tenant or destination):
        raise UsageError("name a TOPIC, or --tenant and --destination, not both")
    if topic is not None:
        return topic if topic.startswith(settings.topics.prefix) else settings.topics.prefix + topic
    if tenant is None or not _TENANT.fullmatch(tenant):
        raise UsageError("name a TOPIC, or --tenant (a four-digit gemeentecode) and --destination")
    if destination is None:
        return settings.topics.dead_letter(tenant)
    return settings.topics.destination(tenant, destination)


def _start(start: str) -> str | datetime:
    """``beginning``, ``end``, or the moment an ISO 8601 time names (local time without an
    offset, as an operator types it); UsageError otherwise, before anything connects."""
    if start in ("beginning", "end"):
        return start
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        raise UsageError(
            f"--from {start!r}: 'beginning', 'end' or an ISO 8601 time (2026-11-30T09:00)"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


async def _seek(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], start: str | datetime
) -> None:
    if start == "beginning":
        await consumer.seek_to_beginning(*partitions)
        return
    if start == "end" or not isinstance(start, datetime):
        await consumer.seek_to_end(*partitions)
        return
    moment = start
    found = await consumer.offsets_for_times(
        {tp: int(moment.timestamp() * 1000) for tp in partitions}
    )
    ends = await consumer.end_offsets(partitions)
    for tp in partitions:
        at = found.get(tp)
        consumer.seek(tp, at.offset if at is not None else ends[tp])


async def tail(
    settings: Settings,
    topic: str,
    start: str | datetime,
    count: int | None,
    idle_exit_s: float | None,
) -> int:
    """Print the records of ``topic`` from ``start`` on; returns how many were printed. Stops
    after ``count`` records, or ``idle_exit_s`` seconds without one (None: follows for ever)."""
    partitions = await partitions_of(settings.kafka_bootstrap_servers, [topic])
    if not partitions:
        raise UsageError(f"there is no topic {topic} at {settings.kafka_bootstrap_servers}")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await start_client(consumer)
    printed = 0
    try:
        consumer.assign(partitions)
        await _seek(consumer, partitions, start)
        idle = 0.0
        while count is None or printed < count:
            batches = await consumer.getmany(timeout_ms=500)
            records = sorted(
                (r for batch in batches.values() for r in batch), key=lambda r: r.timestamp
            )
            idle = 0.0 if records else idle + 0.5
            if idle_exit_s is not None and idle >= idle_exit_s:
                break
            for record in records[: None if count is None else count - printed]:
                typer.echo(orjson.dumps(tail_line(record)).decode())
                printed += 1
    finally:
        await consumer.stop()
    return printed


def tail_command(
    topic: Annotated[
        str | None, typer.Argument(help="A topic (the prefix KNOOPPUNT_TOPIC_PREFIX is added).")
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant id.")] = None,
    destination: Annotated[
        str | None,
        typer.Option(
            "--destination", "-d", help="Its destination's topic (none: its dead letters)."
        ),
    ] = None,
    start: Annotated[
        str, typer.Option("--from", help="beginning, end (new records only) or an ISO 8601 time.")
    ] = "end",
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many records.")] = None,
    idle_exit: Annotated[
        float | None, typer.Option(min=0.5, help="Stop after this many seconds without a record.")
    ] = None,
) -> None:
    """Follow a topic as decoded CloudEvents, one JSON object per line, personal data masked:
    'knooppunt tail --tenant 0363 --destination zaken --from beginning'. Ctrl-C stops it."""
    settings = Settings()
    name, begin = _topic(settings, topic, tenant, destination), _start(start)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(tail(settings, name, begin, count, idle_exit))
