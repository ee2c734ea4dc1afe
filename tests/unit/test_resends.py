"""hub.connector_host.resends: an event id is published once within the window."""

from __future__ import annotations

import asyncio

import pytest

from connectors.sdk import Published
from hub.connector_host.resends import ConflictingResendError, RecentEvents, content_digest

SAME, OTHER = content_digest(b'{"a": 1}'), content_digest(b'{"a": 2}')


class _Kafka:
    """Counts publishes; each waits until ``release`` is set."""

    def __init__(self) -> None:
        self.offsets = 0
        self.release = asyncio.Event()
        self.release.set()
        self.fail_next = False

    async def publish(self) -> Published:
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise TimeoutError("Kafka did not acknowledge")
        self.offsets += 1
        return Published("id-1", "t", "topic", 0, self.offsets - 1)


async def test_a_resend_gets_the_first_answer_and_is_not_published() -> None:
    recent, kafka = RecentEvents(), _Kafka()
    first = await recent.once("id-1", SAME, kafka.publish)
    assert await recent.once("id-1", SAME, kafka.publish) == first
    assert kafka.offsets == 1


async def test_resends_while_the_first_is_in_flight_wait_for_its_answer() -> None:
    recent, kafka = RecentEvents(), _Kafka()
    kafka.release.clear()
    sends = [asyncio.create_task(recent.once("id-1", SAME, kafka.publish)) for _ in range(5)]
    await asyncio.sleep(0)
    kafka.release.set()
    answers = await asyncio.gather(*sends)
    assert kafka.offsets == 1
    assert len(set(answers)) == 1


async def test_the_same_id_with_other_content_is_refused_and_not_published() -> None:
    recent, kafka = RecentEvents(), _Kafka()
    await recent.once("id-1", SAME, kafka.publish)
    with pytest.raises(ConflictingResendError, match="id-1"):
        await recent.once("id-1", OTHER, kafka.publish)
    assert kafka.offsets == 1


async def test_a_failed_publish_is_forgotten_so_the_resend_publishes() -> None:
    recent, kafka = RecentEvents(), _Kafka()
    kafka.fail_next = True
    with pytest.raises(TimeoutError):
        await recent.once("id-1", SAME, kafka.publish)
    assert len(recent) == 0
    assert (await recent.once("id-1", SAME, kafka.publish)).offset == 0


async def test_a_waiting_resend_publishes_itself_when_the_first_failed() -> None:
    recent, kafka = RecentEvents(), _Kafka()
    kafka.release.clear()
    kafka.fail_next = True
    first = asyncio.create_task(recent.once("id-1", SAME, kafka.publish))
    await asyncio.sleep(0)
    resend = asyncio.create_task(recent.once("id-1", SAME, kafka.publish))
    await asyncio.sleep(0)
    kafka.release.set()
    with pytest.raises(TimeoutError):
        await first
    assert (await resend).offset == 0
    assert kafka.offsets == 1


async def test_the_window_is_bounded_in_count_and_time() -> None:
    now = [0.0]
    recent, kafka = RecentEvents(capacity=2, ttl_s=60.0, clock=lambda: now[0]), _Kafka()
    for event_id in ("a", "b", "c"):
        await recent.once(event_id, SAME, kafka.publish)
    assert len(recent) == 2
    await recent.once("a", OTHER, kafka.publish)  # "a" was evicted: a new send, no conflict
    now[0] = 61.0
    await recent.once("c", OTHER, kafka.publish)  # "c" expired
    assert kafka.offsets == 5
