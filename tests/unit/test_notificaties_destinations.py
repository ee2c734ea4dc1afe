"""Abonnementen as destinations (hub.notificaties.destinations): which destinations they need,
and where the router sends a notificatie. Pure parts; the flow is in
tests/integration/test_notificaties_callbacks.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from hub.kafka.topics import TopicNames
from hub.notificaties.destinations import (
    AbonnementDestinations,
    destination_name,
    wanted_destinations,
)
from hub.notificaties.domain import Abonnement, KanaalFilter

ZAKEN = "nl.overheid.zaken.status.create"
A = Abonnement(
    uuid.UUID("00000000-0000-4000-8000-00000000000a"),
    ("0363",),
    "https://zac.example/cb",
    "Bearer a",
    (KanaalFilter("zaken", {"bronorganisatie": "*"}),),
)
B = Abonnement(
    uuid.UUID("00000000-0000-4000-8000-00000000000b"),
    ("0363", "0599"),
    "https://regio.example/cb",
    "",
    (KanaalFilter("zaken", {"zaaktype": "https://zaaktypen/1"}), KanaalFilter("documenten", {})),
)


class _Store:
    def __init__(self, *abonnementen: Abonnement) -> None:
        self.items = {a.id: a for a in abonnementen}

    def snapshot(self) -> Mapping[uuid.UUID, Abonnement]:
        return dict(self.items)

    def watch(self, _watcher: Callable[[Any], None]) -> Callable[[], None]:
        return lambda: None


async def _destinations(*abonnementen: Abonnement) -> AbonnementDestinations:
    made: list[str] = []

    async def make(topics: list[str]) -> None:
        made.extend(topics)

    found = AbonnementDestinations(_Store(*abonnementen), TopicNames(""), make)  # type: ignore[arg-type]
    await found.start()
    await found.stop()
    assert sorted(made) == sorted(
        f"knooppunt.deliver.{tenant}.{destination_name(a.id)}"
        for a in abonnementen
        for tenant in a.tenants
    )
    return found


def test_each_abonnement_is_a_destination_in_each_of_its_tenants() -> None:
    wanted = wanted_destinations({A.id: A, B.id: B})
    assert sorted(wanted) == [
        f"0363/abonnement-{A.id}",
        f"0363/abonnement-{B.id}",
        f"0599/abonnement-{B.id}",
    ]
    assert wanted[f"0599/abonnement-{B.id}"].callback_url == "https://regio.example/cb"
    assert len(destination_name(A.id)) > 40  # longer than any config destination name


async def test_a_notificatie_goes_to_its_own_tenants_abonnementen_that_take_it() -> None:
    found = await _destinations(A, B)
    zaak = {"kanaal": "zaken", "kenmerken": {"bronorganisatie": "000363000"}}
    typed = {**zaak, "kenmerken": {"zaaktype": "https://zaaktypen/1"}}
    assert found.routes("0363", ZAKEN, zaak) == (destination_name(A.id), destination_name(B.id))
    assert found.routes("0599", ZAKEN, zaak) == (destination_name(B.id),)  # A is 0363's only
    assert found.routes("0599", ZAKEN, {**typed, "kenmerken": {"zaaktype": "other"}}) == ()
    assert found.routes("0599", "nl.overheid.documenten.x.create", {"kanaal": "documenten"}) == (
        destination_name(B.id),
    )
    assert found.routes("0001", ZAKEN, zaak) == ()  # a tenant without abonnementen
    assert found.routes("0363", "nl.gemeente.formulier.ingediend", zaak) == ()
    assert found.routes("0363", ZAKEN, ["not", "a", "notificatie"]) == ()
    assert found.routes("0363", ZAKEN, {"kanaal": "zaken", "kenmerken": "x"}) == ()
