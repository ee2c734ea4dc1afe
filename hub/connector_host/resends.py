"""Resends recognised at the intake: an event published once, however often it is sent.

A client that did not hear the answer (a timeout, a dropped connection, a load balancer's
retry) sends the same request again. The event's id is its idempotency key: a push source
derives it from the external id (``NewEvent.event_id``: for a submission the UUIDv5 of tenant,
client and ``submission_id``). Within the window:

- the same id with the same content is published once; a resend gets the first answer (the same
  id, topic, partition and offset), and one that arrives while the first is still being
  published waits for that one's answer;
- the same id with other content is refused (``ConflictingResendError``; the intake answers 422,
  as draft-ietf-httpapi-idempotency-key-header §2.7 advises for a key reused with another
  payload) and never published.

The window is this process's memory: the last ``capacity`` ids, each for ``ttl_s``. Resends that
reach another hub process, or this one after a restart, are published again with the same id;
the router recognises those on the contract topic (``hub.routing.duplicates``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.errors import KnooppuntError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connectors.sdk import Published

__all__ = ["ConflictingResendError", "RecentEvents", "content_digest"]

CAPACITY = 100_000  # ids remembered (about 20 MB)
TTL_S = 24 * 3600.0


class ConflictingResendError(KnooppuntError):
    """An event id published before, now with other content."""

    field: str | None = None

    def __init__(self, event_id: str) -> None:
        super().__init__(
            f"event {event_id} was accepted before with other content; an accepted event cannot "
            "be changed (send it under a new id)"
        )
        self.event_id = event_id


def content_digest(data: bytes) -> bytes:
    """What makes two sends of one id the same: a BLAKE2b digest of the event's data (16 bytes)."""
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass
class _Sent:
    digest: bytes
    at: float
    answer: asyncio.Future[Published | None]  # None: the send failed, a resend tries itself


class RecentEvents:
    """The ids published recently by this process, with their content digest and answer."""

    def __init__(
        self,
        capacity: int = CAPACITY,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity, self.ttl_s, self._clock = capacity, ttl_s, clock
        self._sent: OrderedDict[str, _Sent] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sent)

    async def once(
        self, event_id: str, digest: bytes, publish: Callable[[], Awaitable[Published]]
    ) -> Published:
        """``publish()``'s answer, or the answer of the earlier send of ``event_id``.

        Raises ConflictingResendError when ``event_id`` was sent with another ``digest`` within
        the window; whatever ``publish`` raises otherwise (then the id is forgotten, so a resend
        publishes)."""
        while True:
            sent = self._recent(event_id)
            if sent is None:
                break
            if sent.digest != digest:
                raise ConflictingResendError(event_id)
            answer = await asyncio.shield(sent.answer)
            if answer is not None:
                return answer
        sent = _Sent(digest, self._clock(), asyncio.get_running_loop().create_future())
        self._remember(event_id, sent)
        try:
            published = await publish()
        except BaseException:
            if self._sent.get(event_id) is sent:
                del self._sent[event_id]
            sent.answer.set_result(None)
            raise
        sent.answer.set_result(published)
        return published

    def _recent(self, event_id: str) -> _Sent | None:
        sent = self._sent.get(event_id)
        if sent is not None and self._clock() - sent.at > self.ttl_s:
            del self._sent[event_id]
            return None
        return sent

    def _remember(self, event_id: str, sent: _Sent) -> None:
        self._sent[event_id] = sent
        while len(self._sent) > self.capacity:
            self._sent.popitem(last=False)  # the oldest: ids are remembered in send order
