"""The Notificaties API's kanalen and abonnementen, each in a compacted topic of its own
(hub.notificaties.compacted): ``<prefix>knooppunt.kanalen`` keyed by the kanaal's name, and
``<prefix>knooppunt.abonnementen`` keyed by the abonnement's id.

Every hub process that serves the API, or delivers callbacks, starts both stores; each holds
the whole map, follows the other processes' changes and reads its own writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.notificaties.compacted import CompactedMap
from hub.notificaties.domain import Abonnement, Kanaal

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from uuid import UUID

    from hub.kafka.topics import TopicNames
    from hub.notificaties.compacted import Change, Watcher

__all__ = ["AbonnementenStore", "KanalenStore"]


class KanalenStore:
    """Kanalen by name. A kanaal serves every tenant: its name is a standard one (``zaken``).

    Like every store here, the hub starts and stops it with its consumers (hub.kafka.consuming
    ``Consumer``): ``joined`` once read whole, though it joins no group."""

    group_id = "notificaties-kanalen"  # for readiness only: it reads without a group

    def __init__(self, bootstrap: str, names: TopicNames) -> None:
        self._map = CompactedMap(bootstrap, names.kanalen(), Kanaal.from_record, "kanalen")

    def joined(self) -> bool:
        return self._map.started

    async def start(self) -> None:
        await self._map.start()

    async def stop(self, grace_s: float = 0.0) -> None:
        await self._map.stop()

    def snapshot(self) -> Mapping[str, Kanaal]:
        """Name -> kanaal, now."""
        return self._map.snapshot()

    def named(self, naam: str) -> Kanaal | None:
        return self._map.snapshot().get(naam)

    def by_id(self, kanaal_id: UUID) -> Kanaal | None:
        return next((k for k in self._map.snapshot().values() if k.id == kanaal_id), None)

    async def put(self, kanaal: Kanaal) -> None:
        """Store ``kanaal``; returns once Kafka acknowledged it and this store has it."""
        key, value = kanaal.record()
        await self._map.put(key.decode(), value)


class AbonnementenStore:
    """Abonnementen by id, each with the tenants it belongs to.

    For a router or delivery engine that adds and removes callback destinations at runtime:
    ``snapshot()`` for the state at start, then ``watch(callback)`` for every change after
    (``Change.before`` / ``Change.after``: None when absent), or poll ``version``.
    """

    group_id = "notificaties-abonnementen"  # for readiness only: it reads without a group

    def __init__(self, bootstrap: str, names: TopicNames) -> None:
        self._map = CompactedMap(
            bootstrap, names.abonnementen(), Abonnement.from_record, "abonnementen"
        )
        # Awaited before an abonnement is stored: makes its destination topics
        # (hub.notificaties.destinations), so every router finds them there.
        self.before_put: Callable[[Abonnement], Awaitable[None]] | None = None

    def joined(self) -> bool:
        """Whether every abonnement stored was read (``start`` returned)."""
        return self._map.started

    async def start(self) -> None:
        """Read every abonnement stored; returns once this store holds them all."""
        await self._map.start()

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stop following the topic (``grace_s``: the Consumer shape; nothing is in flight)."""
        await self._map.stop()

    def snapshot(self) -> Mapping[UUID, Abonnement]:
        """Id -> abonnement, as it is now (a copy: later changes do not show in it)."""
        return {abonnement.id: abonnement for abonnement in self._map.snapshot().values()}

    def get(self, abonnement_id: UUID) -> Abonnement | None:
        return self._map.snapshot().get(str(abonnement_id))

    def for_tenant(self, tenant: str) -> list[Abonnement]:
        """The abonnementen that belong to ``tenant``."""
        return [a for a in self._map.snapshot().values() if tenant in a.tenants]

    @property
    def version(self) -> int:
        """Grows with every change applied (here or by another process)."""
        return self._map.version

    def watch(self, watcher: Callable[[Change[Abonnement]], None]) -> Callable[[], None]:
        """Call ``watcher`` with every change from now on (the key is the id as text); returns
        the function that stops it. Called in the store's reader task: it must not block."""
        typed: Watcher[Abonnement] = watcher
        return self._map.watch(typed)

    async def put(self, abonnement: Abonnement) -> None:
        """Create or replace ``abonnement``; returns once Kafka acknowledged it and this store
        has it."""
        if self.before_put is not None:
            await self.before_put(abonnement)
        key, value = abonnement.record()
        await self._map.put(key.decode(), value)

    async def delete(self, abonnement_id: UUID) -> None:
        """Remove an abonnement (a tombstone); returns once acknowledged and applied here."""
        await self._map.delete(str(abonnement_id))
