"""Abonnementen as push destinations (Notificaties API 1.0, "Abonneren en ontvangen"): each
abonnement of each of its tenants is a destination ``abonnement-<id>`` with its own topic
``knooppunt.deliver.<tenant>.abonnement-<id>``, routed to by the router for that tenant's
notificaties that pass the abonnement's filters, and delivered by the ``nrc-callback`` sink to
its ``callbackUrl`` with its ``auth`` (docs/notificaties.md, "Callbacks").

Each one is then a destination like any other: its own queue, circuit breaker, retry tiers and
dead letters (``knooppunt dlq ... --destination abonnement-<id>``), so one slow subscriber holds
up no other. ``AbonnementDestinations`` keeps them in step with the store, at runtime: a new
abonnement's topic is made before it is stored (so it is there for the router as soon as any
process sees it), and every process's router and delivery engine take changes as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from hub.notificaties.matching import matches
from hub.observability.logs import get_logger
from hub.observability.redaction import redact_text

if TYPE_CHECKING:
    from hub.delivery.worker import DeliveryWorkers
    from hub.kafka.topics import TopicNames
    from hub.notificaties.compacted import Change
    from hub.notificaties.domain import Abonnement
    from hub.notificaties.store import AbonnementenStore

__all__ = [
    "DESTINATION_PREFIX",
    "AbonnementDestinations",
    "Wanted",
    "destination_name",
    "wanted_destinations",
]

log = get_logger(__name__)
DESTINATION_PREFIX = "abonnement-"  # config destination names are at most 40: never this long
AUTH_ENV = "KNOOPPUNT_ABONNEMENT_AUTH"  # the name the callback sink reads its auth under
ZGW_FAMILY = "nl.overheid."


def destination_name(abonnement_id: UUID) -> str:
    """``abonnement-<uuid>``: the abonnement's destination name, in every tenant it serves."""
    return f"{DESTINATION_PREFIX}{abonnement_id}"


@dataclass(frozen=True)
class Wanted:
    """One callback destination: an abonnement of one tenant, with what its sink is built from
    (a change of either rebuilds the sink; a change of filters only reroutes)."""

    tenant: str
    destination: str
    callback_url: str
    auth: str


def wanted_destinations(abonnementen: Mapping[UUID, Abonnement]) -> dict[str, Wanted]:
    """Pure: the destinations the abonnementen need, by ``<tenant>/<destination>``."""
    wanted: dict[str, Wanted] = {}
    for abonnement in abonnementen.values():
        name = destination_name(abonnement.id)
        for tenant in abonnement.tenants:
            wanted[f"{tenant}/{name}"] = Wanted(
                tenant, name, abonnement.callback_url, abonnement.auth
            )
    return wanted


def _by_tenant(abonnementen: Mapping[UUID, Abonnement]) -> dict[str, tuple[Abonnement, ...]]:
    index: dict[str, list[Abonnement]] = {}
    for abonnement in abonnementen.values():
        for tenant in abonnement.tenants:
            index.setdefault(tenant, []).append(abonnement)
    return {tenant: tuple(found) for tenant, found in index.items()}


class AbonnementDestinations:
    """The abonnementen store's destinations, kept in step (see the module docstring).

    - ``routes(tenant, event_type, payload)``: for the router (any thread): the destination
      names of the tenant's abonnementen whose filters the notificatie passes;
    - ``prepare(abonnement)``: make its topics (the store calls it before storing one);
    - with ``delivery`` (a process with the delivery role): push to every destination, and
      stop pushing to a removed one, as the store changes.

    Started and stopped with the hub's consumers (``joined`` once the first sync is done).
    """

    group_id = "notificaties-callbacks"  # for readiness only: it joins no group

    def __init__(
        self,
        store: AbonnementenStore,
        names: TopicNames,
        make_topics: Callable[[list[str]], Awaitable[Any]],
        delivery: DeliveryWorkers | None = None,
    ) -> None:
        self.store, self.names, self.make_topics, self.delivery = (
            store,
            names,
            make_topics,
            delivery,
        )
        self._index: dict[str, tuple[Abonnement, ...]] = {}  # replaced whole, never changed
        self._pushed: dict[str, Wanted] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unwatch: Callable[[], None] | None = None
        self._synced = False
        self._stopping = False
        self._syncing = False  # a sync is making topics or sinks: let it finish, never cut it

    def joined(self) -> bool:
        return self._synced

    def routes(self, tenant: str, event_type: str, payload: Any) -> tuple[str, ...]:
        """Where a notificatie of ``tenant`` goes besides the config's routes: its abonnementen
        that take it (Open Notificaties' filter rules, hub.notificaties.matching). ``payload``:
        the notificatie as JSON (a dict: ``kanaal``, ``kenmerken``...)."""
        if not event_type.startswith(ZGW_FAMILY):
            return ()
        subscribed = self._index.get(tenant)
        if not subscribed:
            return ()
        if not isinstance(payload, Mapping):
            return ()
        kanaal, kenmerken = payload.get("kanaal"), payload.get("kenmerken") or {}
        if not isinstance(kanaal, str) or not isinstance(kenmerken, Mapping):
            return ()
        return tuple(destination_name(a.id) for a in subscribed if matches(a, kanaal, kenmerken))

    def topics_of(self, abonnement: Abonnement) -> list[str]:
        name = destination_name(abonnement.id)
        return [self.names.destination(tenant, name) for tenant in abonnement.tenants]

    async def prepare(self, abonnement: Abonnement) -> None:
        """Make the abonnement's destination topics (before it is stored: then no router can
        route to a topic that is not there yet). Raises what topic creation raises."""
        await self.make_topics(self.topics_of(abonnement))

    async def start(self) -> None:
        self._unwatch = self.store.watch(self._on_change)
        await self._sync()
        self._synced = True
        self._task = asyncio.create_task(self._follow(), name="abonnement-destinations")

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stop following the store. A sync under way finishes first: cut in the middle, it
        left a Kafka admin client half started (an unclosed connection) or a sink half open."""
        self._stopping = True
        if self._unwatch is not None:
            self._unwatch()
        if self._task is not None:
            if not self._syncing:
                self._task.cancel()
            self._changed.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_change(self, _change: Change[Abonnement]) -> None:
        self._index = _by_tenant(self.store.snapshot())  # routing sees it at once
        self._changed.set()

    async def _follow(self) -> None:
        while not self._stopping:
            await self._changed.wait()
            self._changed.clear()
            if self._stopping:
                return
            self._syncing = True
            try:
                await self._sync()
            except Exception as exc:  # Kafka unavailable a moment: the next change tries again
                log.error("abonnement_destinations_not_synced", error=redact_text(str(exc)))
                self._changed.set()
            finally:
                self._syncing = False
            if self._changed.is_set() and not self._stopping:
                await asyncio.sleep(1.0)  # after a failure: not in a tight loop

    async def _sync(self) -> None:
        """Make the topics of every abonnement, then route and (with delivery) push to each."""
        abonnementen = self.store.snapshot()
        wanted = wanted_destinations(abonnementen)
        topics = [self.names.destination(w.tenant, w.destination) for w in wanted.values()]
        if topics:
            await self.make_topics(topics)
        self._index = _by_tenant(abonnementen)
        if self.delivery is None:
            return
        for key, gone in [(k, w) for k, w in self._pushed.items() if k not in wanted]:
            self.delivery.stop_pushing(self.names.destination(gone.tenant, gone.destination))
            del self._pushed[key]
            log.info(
                "abonnement_destination_removed", tenant=gone.tenant, destination=gone.destination
            )
        for key, one in wanted.items():
            if self._pushed.get(key) == one:
                continue
            try:
                await self.delivery.push_to(
                    one.tenant, one.destination, "nrc-callback", *_sink_settings(one)
                )
            except Exception as exc:  # one abonnement's bad settings never stop the others
                log.error(
                    "abonnement_destination_refused",
                    tenant=one.tenant,
                    destination=one.destination,
                    error=redact_text(str(exc)),
                )
                continue
            self._pushed[key] = one
            log.info(
                "abonnement_destination_pushed", tenant=one.tenant, destination=one.destination
            )


def _sink_settings(one: Wanted) -> tuple[dict[str, object], dict[str, str]]:
    """The nrc-callback sink's settings and its one secret (the abonnement's auth)."""
    if not one.auth:
        return {"url": one.callback_url}, {}
    return {"url": one.callback_url, "auth_header_env": AUTH_ENV}, {AUTH_ENV: one.auth}
