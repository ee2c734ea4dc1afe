"""``knooppunt tail`` (issue 11 part 8) on the session's real broker: a destination topic's
events as decoded CloudEvents, one JSON line each, personal data masked; mistakes in one line."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from contracts.cloudevents import source_urn
from contracts.events import build_event
from contracts.registry import contract_for
from hub.kafka.admin import ensure_topics
from hub.runtime.settings import Settings
from tests.integration.processes import hub_env, knooppunt
from tests.kafka_reading import produce_raw
from tests.samples import VALID_BSN, submission

pytestmark = pytest.mark.kafka
SUBMITTED = contract_for("nl.gemeente.formulier.ingediend", 1)


async def test_tail_shows_a_destinations_events_decoded_and_masked(hub_settings: Settings) -> None:
    topic = hub_settings.topics.destination("0363", "zaken")
    bootstrap = hub_settings.kafka_bootstrap_servers
    await ensure_topics(bootstrap, [topic], 1)
    sent = []
    for form in ("parkeervergunning", "melding"):
        values = {"voornaam": "Jan", "toelichting": "mail jan@example.nl", "wie": "Jan Jansen"}
        payload = submission(form, values=values)
        event, key = build_event(
            SUBMITTED, payload, tenant="0363", source=source_urn("00000001002564440000", "test")
        )
        sent.append(event)
        await produce_raw(bootstrap, topic, event.data, key, event.kafka_headers())
    await produce_raw(bootstrap, topic, b"not json", b"k", [])  # a record of no one's

    env = hub_env(hub_settings)
    args = ("tail", "--tenant", "0363", "--destination", "zaken", "--from", "beginning")
    answer = await asyncio.to_thread(knooppunt, env, *args, "--count", "3")

    assert answer.returncode == 0, answer.stderr
    first, second, foreign = (orjson.loads(line) for line in answer.stdout.splitlines())
    assert [first["id"], second["id"]] == [e.id for e in sent]
    assert first["type"] == "nl.gemeente.formulier.ingediend"
    assert first["tenant"] == "0363"
    assert (first["topic"], first["offset"]) == (topic, 0)
    assert first["data"]["form"]["id"] == "parkeervergunning"
    assert first["data"]["values"] == dict.fromkeys(
        ("voornaam", "toelichting", "wie"), "[redacted]"
    )
    assert "Jansen" not in answer.stdout  # under a key no list foresees (a trial found it)
    assert "jan@example.nl" not in answer.stdout
    assert VALID_BSN not in answer.stdout  # the declared authentication.bsn, masked
    assert foreign["error"].startswith("not a CloudEvent of the hub")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name a TOPIC, or --tenant"),
        (("nosuchtopic", "--from", "beginning", "--count", "1"), "there is no topic"),
        (("--tenant", "0363", "--destination", "x", "--from", "gisteren"), "--from 'gisteren'"),
    ],
)
async def test_tail_mistakes_are_one_line(
    hub_settings: Settings, args: tuple[str, ...], message: str
) -> None:
    if "--destination" in args:
        await ensure_topics(
            hub_settings.kafka_bootstrap_servers,
            [hub_settings.topics.destination("0363", "x")],
            1,
        )
    answer = await asyncio.to_thread(knooppunt, hub_env(hub_settings), "tail", *args)
    assert answer.returncode == 2, answer.stdout
    assert message in answer.stderr
    assert len(answer.stderr.strip().splitlines()) == 1
