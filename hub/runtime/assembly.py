"""Assembles one hub process: the FastStream Kafka broker (router consumer) and the FastAPI app.

Why FastAPI with a plain FastStream ``KafkaBroker`` (instead of FastStream's ASGI app): the HTTP
side is a real API (intake with OpenAPI at /docs, problem+json errors, auth), which FastAPI does
best; the broker's start and stop sit in FastAPI's lifespan, so one process, one event loop and
one shutdown path serve both. The AsyncAPI document comes from FastStream's own generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

import hub
from contracts.registry import CONTRACTS
from hub.connector_host.pollers import POLLER_PARTITIONS, PollerGroup
from hub.connector_host.publishing import contract_publisher
from hub.connector_host.resends import RecentEvents
from hub.console import Operators, mount_console
from hub.console.readings import destination_lag
from hub.delivery.outcomes import DELIVERED, FAILED
from hub.delivery.worker import DeliveryWorkers
from hub.http.attachments import mount_attachments
from hub.http.auth import Authenticator
from hub.http.documentation import install_documentation, offline_app
from hub.http.operations import install_operations
from hub.http.problem_handlers import install_problem_handlers
from hub.http.sources import mount_push_sources
from hub.kafka.admin import ensure_topics, metadata_problem
from hub.kafka.producing import RecordProducer
from hub.kafka.topics import QUARANTINE
from hub.notificaties.destinations import AbonnementDestinations
from hub.notificaties.mounting import mount_notificaties
from hub.notificaties.store import AbonnementenStore, KanalenStore
from hub.observability.logs import get_logger
from hub.observability.metrics import ConsumerLagCollector, DestinationCollector, Metrics
from hub.observability.redaction import redact_text
from hub.routing.router import router_consumer
from hub.runtime.blob_store import attachments_of
from hub.runtime.blob_sweep import sweep_blobs
from hub.runtime.consumer_lag import LagMeter
from hub.runtime.destination_board import DestinationBoard
from hub.runtime.memory import freeze_start_up_heap

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable

    from fastapi import FastAPI

    from hub.blobs import BlobStore
    from hub.config import HubConfig
    from hub.connector_host.attachments import HubAttachments
    from hub.kafka.consuming import Consumer
    from hub.kafka.topics import TopicNames
    from hub.runtime.settings import Settings

__all__ = ["Hub", "build_hub"]

log = get_logger(__name__)
RETRY_AFTER_S = 5  # a leader election or a broker restart takes seconds, not milliseconds


@dataclass
class Hub:
    """A built hub: its ASGI app plus the parts tests and the CLI look at."""

    settings: Settings
    config: HubConfig
    broker: KafkaBroker
    metrics: Metrics
    app: FastAPI
    consumers: list[Consumer]
    delivery: DeliveryWorkers | None = None  # push destinations, also those made at runtime
    created_topics: list[str] = field(default_factory=list)
    start_refused: Exception | None = None  # why the start failed (a sink refused, Kafka...)

    @property
    def kanalen(self) -> KanalenStore | None:
        """The Notificaties API's kanalen (processes with the api role)."""
        return next((c for c in self.consumers if isinstance(c, KanalenStore)), None)

    @property
    def abonnementen(self) -> AbonnementenStore | None:
        """The Notificaties API's abonnementen (processes with the api role)."""
        return next((c for c in self.consumers if isinstance(c, AbonnementenStore)), None)

    async def ready(self) -> tuple[bool, dict[str, str]]:
        """Kafka answers a metadata request and every consumer has joined its group (its
        assignment may be empty: a process beyond the number of partitions stands by)."""
        checks: dict[str, str] = {}
        problem = await metadata_problem(self.settings.kafka_bootstrap_servers, timeout_s=2.0)
        checks["kafka"] = "ok" if problem is None else f"unreachable: {problem}"
        for consumer in self.consumers:
            checks[f"consumer:{consumer.group_id}"] = (
                "joined" if consumer.joined() else "joining its group"
            )
        return all(v in ("ok", "joined") for v in checks.values()), checks

    def banner(self) -> str:
        base = f"http://{self.settings.http_host}:{self.settings.http_port}"
        topics = self.settings.topics.all_for(self.config)
        created = set(self.created_topics)
        more = len(topics) - BANNER_TOPICS
        lines = [
            f"Knooppunt {hub.__version__} is running with {self.config.source}",
            f"  Kafka:     {self.settings.kafka_bootstrap_servers}",
            f"  Home:      {base}/",
            f"  Console:   {base}/console  ({self._operators()})",
            f"  API docs:  {base}/docs",
            f"  AsyncAPI:  {base}/asyncapi  (JSON: {base}/asyncapi.json)",
            f"  Metrics:   {base}/metrics",
            f"  Health:    {base}/healthz  {base}/readyz",
            f"  Topics ({len(created)} created now, {len(topics) - len(created)} existed):",
            *(f"    {t}{'  (created)' if t in created else ''}" for t in topics[:BANNER_TOPICS]),
            *([f"    ... and {more} more (/asyncapi lists all)"] if more > 0 else []),
            "  Try it:    .venv/bin/knooppunt demo   (in a second shell); Ctrl-C stops the hub",
        ]
        return "\n".join(lines)

    def _operators(self) -> str:
        ids = [operator.id for operator in self.config.operators]
        if not ids:
            return "no operators in the config: docs/configuration.md#operators"
        return "log in as " + ", ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")


BANNER_TOPICS = 30  # the demo's topics all fit; 340 tenants' 1,400 would bury the rest


def document_topics(broker: KafkaBroker, config: HubConfig, names: TopicNames) -> None:
    """Declare every topic the hub writes, with its payload schema, for the AsyncAPI document."""
    for spec in CONTRACTS:
        broker.publisher(
            names.contract(spec),
            schema=spec.model,
            title=f"{names.contract(spec)}:publish",
            description=f"{spec.summary} Schema {spec.dataschema}; see docs/contracts.md.",
        )
    for tenant in config.tenants:
        for destination in tenant.destinations:
            topic = names.destination(tenant.id, destination.name)
            types = sorted(
                {r.contract for r in config.routes_of(tenant.id) if destination.name in r.to}
            )
            broker.publisher(
                topic,
                title=f"{topic}:publish",
                description=f"Copies of {', '.join(types) or 'no'} events routed to "
                f"{tenant.name} / {destination.name} (connector {destination.connector}).",
            )
        broker.publisher(
            names.dead_letter(tenant.id),
            title=f"{names.dead_letter(tenant.id)}:publish",
            description=f"Dead letters of {tenant.name}: the original record, the cause in "
            "knooppunt_error_* headers.",
        )
    for delay in config.delivery.retry_delays:
        broker.publisher(
            names.retry(delay),
            title=f"{names.retry(delay)}:publish",
            description=f"Failed deliveries waiting {delay} before the next attempt; the target "
            "destination and the delivery's history travel in knooppunt_* headers.",
        )
    broker.publisher(
        names.dead_letter(QUARANTINE),
        title=f"{names.dead_letter(QUARANTINE)}:publish",
        description="Events found on another tenant's destination topic (security errors); "
        "for operators only.",
    )


async def _warm_when_ready(built: Hub, producer: RecordProducer, limit_s: float = 60.0) -> None:
    """Once every consumer has joined its group (the hub is ready), warm the producer's metadata
    of every topic the hub writes; doing it earlier, with 1,020 topics, slows the joins."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while not all(c.joined() for c in built.consumers):
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    outcomes = [built.settings.topics.contract(spec) for spec in (DELIVERED, FAILED)]
    # The outcome topics too: a first outcome waited for their metadata while a new topic's
    # leader was elected, and its delivery with it (seen once: 40 s after a start).
    producer.warm([*built.settings.topics.hub_written(built.config), *outcomes])


async def _sweep_blobs_every(settings: Settings, config: HubConfig, store: BlobStore) -> None:
    """Remove expired blobs every ``blob_sweep_interval_s`` (hub.runtime.blob_sweep); a failed
    sweep is logged and tried again at the next one. Processes with the delivery role only."""
    if "delivery" not in settings.role_set:
        return
    retention = timedelta(seconds=settings.blob_retention_s)
    while True:
        await asyncio.sleep(settings.blob_sweep_interval_s)
        try:
            report = await sweep_blobs(
                store, settings.kafka_bootstrap_servers, config, settings.topics, retention
            )
        except Exception as exc:  # a sweep must never stop the hub
            log.warning(
                "blob_sweep_failed", error_class=type(exc).__name__, error=redact_text(str(exc))
            )
            continue
        if report.removed:
            log.info(
                "blobs_removed",
                removed=len(report.removed),
                expired=report.expired,
                stored=report.stored,
            )


def _lag_meter(settings: Settings, config: HubConfig, metrics: Metrics) -> LagMeter | None:
    """The consumer-lag meter of a process that runs the router's or the delivery engine's
    consumers (hub.runtime.consumer_lag), its figures registered for scrapes; None for others."""
    roles = settings.role_set
    if not roles & {"router", "delivery"}:
        return None
    lag = LagMeter.for_roles(settings.kafka_bootstrap_servers, config, settings.topics, roles)
    metrics.registry.register(ConsumerLagCollector(lag.figures))
    return lag


async def _measure_lag(lag: LagMeter | None, interval_s: float) -> None:
    if lag is not None:
        await lag.run(interval_s)


STOP_MARGIN_S = 10.0  # beyond the shutdown grace, for leaving a group and closing clients


async def _bounded(what: str, stopping: Awaitable[object], grace_s: float) -> None:
    """Await one step of the shutdown for at most ``grace_s`` + STOP_MARGIN_S: a step that hangs
    (a client waiting on a broker that went away) is logged and left, so a SIGTERM always ends
    the process. Offsets not committed then are read again by the next owner: nothing is lost."""
    try:
        await asyncio.wait_for(stopping, grace_s + STOP_MARGIN_S)
    except TimeoutError:
        log.error("hub_stop_step_timed_out", step=what, after_s=grace_s + STOP_MARGIN_S)
    except Exception as exc:  # one step failing must not keep the others from stopping
        log.error("hub_stop_step_failed", step=what, error=redact_text(str(exc)))


async def _shut_down(
    grace_s: float,
    consumers: list[Consumer],
    producer: RecordProducer,
    broker: KafkaBroker,
    delivery: DeliveryWorkers,
) -> None:
    """Each consumer lets its batch in hand finish and commits it, then leaves its group; then
    the producers and the sinks close. Every step bounded (``_bounded``)."""
    await asyncio.gather(
        *(_bounded(f"consumer {c.group_id}", c.stop(grace_s), grace_s) for c in consumers)
    )
    await _bounded("producer", producer.stop(), grace_s)
    await _bounded("intake producer", broker.stop(), grace_s)
    await _bounded("sinks", delivery.close(), grace_s)


async def _start_clients(
    grace_s: float,
    consumers: list[Consumer],
    producer: RecordProducer,
    broker: KafkaBroker,
    delivery: DeliveryWorkers,
) -> None:
    """The producers, then each consumer in order. When one fails, what did start is stopped
    (bounded, as at shutdown) before its error is raised: no client is left open behind it."""
    started: list[Consumer] = []
    try:
        await broker.start()
        await producer.start()
        for consumer in consumers:
            await consumer.start()
            started.append(consumer)
    except Exception:
        await _shut_down(grace_s, started, producer, broker, delivery)
        raise


async def _cancelled(*tasks: asyncio.Task[None]) -> None:
    """Cancel background ``tasks`` and wait for them to end (the lag meter closes its Kafka
    clients on the way out); what one of them raised before is not the shutdown's concern."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _prepare(settings: Settings, config: HubConfig, delivery: DeliveryWorkers) -> list[str]:
    """Topics (those created now are returned), then every sink's open, which may refuse the
    start naming what is wrong (KnooppuntError)."""
    created = await ensure_topics(
        settings.kafka_bootstrap_servers,
        settings.topics.all_for(config),
        settings.topic_partitions,
        settings.topic_replication,
        settings.topic_min_insync_replicas,
        hub_written=settings.topics.hub_written(config),
        partitions_of={
            **dict.fromkeys(delivery.push_topics(), settings.push_partitions),
            settings.topics.pollers(): POLLER_PARTITIONS,
        },
        compacted=[
            settings.topics.destination_blocks(),
            settings.topics.dlq_replays(),
            settings.topics.checkpoints(),
            settings.topics.kanalen(),
            settings.topics.abonnementen(),
        ],
    )
    await delivery.open()
    return created


def _group_members(
    settings: Settings,
    config: HubConfig,
    broker: KafkaBroker,
    metrics: Metrics,
    delivery: DeliveryWorkers,
) -> list[Consumer]:
    """The consumer-group members this process's roles run: the router, the delivery engine
    and retry tiers, and (api) the polling sources' owner and the Notificaties API's stores
    (read whole before the hub takes requests)."""
    bootstrap, roles, names = settings.kafka_bootstrap_servers, settings.role_set, settings.topics
    # Every role reads the abonnementen: the api serves them, the router routes to them, the
    # delivery engine pushes to them (hub.notificaties.destinations). Read before the others.
    abonnementen = AbonnementenStore(bootstrap, names)
    callbacks = AbonnementDestinations(
        abonnementen,
        names,
        lambda topics: _make_push_topics(settings, topics),
        delivery if "delivery" in roles else None,
    )
    abonnementen.before_put = callbacks.prepare
    members: list[Consumer] = [abonnementen, callbacks]
    if "api" in roles:
        members.append(KanalenStore(bootstrap, names))
    if "router" in roles:
        members.append(router_consumer(bootstrap, config, metrics, names, callbacks.routes))
    if "delivery" in roles:
        members.extend(delivery.consumers(bootstrap, runtime_destinations=True))
    if "api" in roles and any(tenant.sources for tenant in config.tenants):
        publish = contract_publisher(
            broker, names, config, settings.publish_timeout_s, metrics=metrics
        )
        members.append(PollerGroup(bootstrap, config, names, publish, metrics))
    return members


async def _make_push_topics(settings: Settings, topics: list[str]) -> None:
    """Destination topics made at runtime (abonnementen), made as the config's are."""
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        topics,
        settings.push_partitions,
        settings.topic_replication,
        settings.topic_min_insync_replicas,
        hub_written=topics,
    )


def _mount_api(
    app: FastAPI,
    settings: Settings,
    config: HubConfig,
    authenticator: Authenticator,
    broker: KafkaBroker,
    metrics: Metrics,
    attachments: HubAttachments,
    consumers: list[Consumer],
) -> None:
    """The HTTP API of the api role: push sources, attachments and the Notificaties API (its
    resources' urls start with KNOOPPUNT_PUBLIC_URL)."""
    names, timeout_s = settings.topics, settings.publish_timeout_s
    mount_push_sources(app, config, authenticator, broker, metrics, names, timeout_s, attachments)
    mount_attachments(app, authenticator, attachments)
    kanalen = next(c for c in consumers if isinstance(c, KanalenStore))
    abonnementen = next(c for c in consumers if isinstance(c, AbonnementenStore))
    publish = contract_publisher(
        broker, names, config, timeout_s, recent=RecentEvents(), metrics=metrics
    )
    public_url = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
    mount_notificaties(app, config, authenticator, publish, kanalen, abonnementen, public_url)


def _destination_board(
    settings: Settings, config: HubConfig, delivery: DeliveryWorkers, lag: LagMeter | None
) -> DestinationBoard | None:
    """With operators in the config, the board that shows every process's destinations in the
    console (hub.runtime.destination_board): written by a delivery process, read by all."""
    if not config.operators:
        return None
    delivering = "delivery" in settings.role_set
    return DestinationBoard(
        settings.kafka_bootstrap_servers,
        settings.topics.destination_status(),
        settings.status_interval_s,
        local=delivery.status if delivering else None,
        local_lag=None if lag is None else (lambda: destination_lag(lag.figures()[0])),
    )


def _mount_pages(
    built: Hub,
    specification: AsyncAPI,
    delivery: DeliveryWorkers,
    board: DestinationBoard | None,
) -> None:
    """The pages for people: /, /asyncapi (/docs is the app's own) and the ops console.
    Reads the operators' passwords: ConfigError before anything runs when one is missing."""
    operators = Operators(built.config)
    install_documentation(built.app, specification, hub.__version__)
    bootstrap, names = built.settings.kafka_bootstrap_servers, built.settings.topics
    statuses, lag = (delivery.status, None) if board is None else (board.statuses, board.lag)
    mount_console(built.app, built.config, operators, bootstrap, names, statuses, lag)


def _kafka_broker(settings: Settings) -> KafkaBroker:
    """FastStream's broker: the intake's producer and the AsyncAPI document's source."""
    return KafkaBroker(
        # FastStream takes a string as one host; "a:9092,b:9092" names two (aiokafka splits it).
        [server.strip() for server in settings.kafka_bootstrap_servers.split(",")],
        client_id="knooppunt",
        # A 202 means the record is on every in-sync replica, and a retried send is never doubled.
        acks="all",
        enable_idempotence=True,
        graceful_timeout=settings.shutdown_grace_s,
        logger=logging.getLogger("hub.faststream"),  # ours: JSON, propagates to root
        log_level=logging.DEBUG,  # per-message lines only when asked for: normal operation is quiet
    )


def _specification(broker: KafkaBroker, config: HubConfig, names: TopicNames) -> AsyncAPI:
    """The AsyncAPI document of every topic the hub writes (``/asyncapi``)."""
    document_topics(broker, config, names)
    return AsyncAPI(
        broker,
        title="Knooppunt",
        version=hub.__version__,
        description="Kafka side of Knooppunt: contract topics in, destination topics out.",
    )


def build_hub(
    settings: Settings, config: HubConfig, announce: bool = False, freeze_heap: bool = False
) -> Hub:
    """Check the settings and config and build the hub; nothing connects until the app starts.
    ``announce``: print the banner once started; ``freeze_heap``: the hub owns its process, so
    its start-up heap is frozen out of the garbage collector's way (hub.runtime.memory).

    Raises ConfigError (e.g. a client secret that cannot be read) before anything runs.
    """
    authenticator = Authenticator(config)
    metrics = Metrics()
    broker = _kafka_broker(settings)
    producer = RecordProducer(settings.kafka_bootstrap_servers)
    attachments = attachments_of(settings)  # opens nothing until the first file
    delivery = DeliveryWorkers(producer, config, metrics, settings.topics, attachments=attachments)
    metrics.registry.register(DestinationCollector(delivery.status))
    roles = settings.role_set
    lag = _lag_meter(settings, config, metrics)
    consumers = _group_members(settings, config, broker, metrics, delivery)
    board = _destination_board(settings, config, delivery, lag)
    if board is not None:
        consumers.append(board)
    specification = _specification(broker, config, settings.topics)
    built: Hub

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            built.created_topics = await _prepare(settings, config, delivery)
            await _start_clients(settings.shutdown_grace_s, consumers, producer, broker, delivery)
        except Exception as exc:  # a refusal in words, Kafka failing: `run` says it in one line
            built.start_refused = exc
            raise
        if freeze_heap:
            freeze_start_up_heap()
        log.info(
            "hub_started",
            kafka=settings.kafka_bootstrap_servers,
            topics_created=len(built.created_topics),
            tenants=len(config.tenants),
        )
        if announce:
            print(built.banner(), file=sys.stderr, flush=True)
        warming = asyncio.create_task(_warm_when_ready(built, producer))
        sweeping = asyncio.create_task(_sweep_blobs_every(settings, config, attachments.blobs))
        lagging = asyncio.create_task(_measure_lag(lag, settings.lag_interval_s))
        await authenticator.start()
        try:
            yield
        finally:
            await _bounded(
                "background tasks",
                _cancelled(warming, sweeping, lagging),
                settings.shutdown_grace_s,
            )
            authenticator.stop()
            await _shut_down(settings.shutdown_grace_s, consumers, producer, broker, delivery)
            await _bounded("blob store", attachments.blobs.close(), settings.shutdown_grace_s)
            log.info("hub_stopped")

    app = offline_app(
        title="Knooppunt",
        version=hub.__version__,
        description="Integration hub for Dutch municipalities: HTTP intake onto Apache Kafka.",
        lifespan=lifespan,
        # The hub sets up no OpenTelemetry; left on, FastAPI looks for the global providers on
        # every request (6 % of the intake's CPU at saturation, docs/design.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )

    install_problem_handlers(app, settings.publish_timeout_s)
    if "api" in roles:
        _mount_api(app, settings, config, authenticator, broker, metrics, attachments, consumers)

    built = Hub(settings, config, broker, metrics, app, consumers, delivery)
    install_operations(app, built.ready, metrics, specification, delivery.status)
    _mount_pages(built, specification, delivery, board)
    return built
