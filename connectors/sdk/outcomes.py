"""What one delivery attempt came to: values a sink returns, never exceptions it raises.

- ``Delivered(references)``: the back office took the event; the hub commits and logs the
  references (what it made, e.g. the zaak URL).
- ``Retryable(reason, code, retry_after_s, progress)``: it may work later (timeout, 5xx); the
  hub moves it to the next retry tier (at least ``retry_after_s`` later) and hands ``progress``
  to the next attempt.
- ``Throttled(retry_after_s, code, reason, progress)``: the back office asks us to slow down
  (HTTP 429); retried like Retryable (its progress kept too), counted apart.
- ``Permanent(reason, code)``: retrying will not help (400: content refused); dead letters.

``code`` is the back office's own answer as a string: an HTTP status (``"503"``), a SOAP fault code
(``"soap:Server"``), an SMTP reply (``"451"``); None when there was no answer (timeout, refused
connection). ``reason`` is a short sentence for operators; it may reach logs and dead-letter
headers, so it names a status or a kind of failure, never personal data or a request body.

Any exception a sink raises anyway is taken by the hub as a retryable failed attempt of that one
event (Kafka Connect's rule: only the framework routes records).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

__all__ = [
    "MAX_PROGRESS_BYTES",
    "Delivered",
    "Failure",
    "Outcome",
    "Permanent",
    "Retryable",
    "Throttled",
    "encode_progress",
]

# The progress of a multi-step delivery travels in a Kafka header (knooppunt_progress) from
# attempt to attempt; it holds references (URLs, ids) of what earlier steps made, not data.
MAX_PROGRESS_BYTES = 4096


def encode_progress(progress: Mapping[str, str]) -> bytes:
    """``progress`` as compact JSON (sorted keys). Raises ValueError when a key or value is not a
    string or the JSON is longer than MAX_PROGRESS_BYTES."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in progress.items()):
        raise ValueError("progress maps step names (str) to references (str)")
    encoded = orjson.dumps(dict(progress), option=orjson.OPT_SORT_KEYS)
    if len(encoded) > MAX_PROGRESS_BYTES:
        raise ValueError(
            f"progress is {len(encoded)} bytes as JSON; at most {MAX_PROGRESS_BYTES}: keep "
            "references to what earlier steps made, not the data itself"
        )
    return encoded


@dataclass(frozen=True)
class Delivered:
    """The back office took the event. ``references`` name what it made, by step or kind
    (``{"zaak": "https://zaken.example/zaken/1"}``); empty when it said nothing."""

    references: Mapping[str, str] = field(default_factory=dict)

    @property
    def reference(self) -> str | None:
        """The first reference, or None: for the single-step sink's one thing made."""
        return next(iter(self.references.values()), None)


@dataclass(frozen=True)
class Retryable:
    """It may work on a later attempt. ``retry_after_s``: the back office's own wish
    (Retry-After, RFC 9110 §10.2.3), in seconds. ``progress``: what this attempt got done (step
    name -> reference), handed to the next attempt as ``Delivery.progress``; at most
    MAX_PROGRESS_BYTES as JSON (ValueError otherwise)."""

    reason: str
    code: str | None = None
    retry_after_s: float | None = None
    progress: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        encode_progress(self.progress)


@dataclass(frozen=True)
class Throttled:
    """The back office refused for load, not for this event (HTTP 429, RFC 6585 §4).
    ``retry_after_s`` is when it asked to be called again, None when it did not say.
    ``progress``: as Retryable's, what a multi-step delivery made before it was throttled."""

    retry_after_s: float | None = None
    code: str | None = None
    reason: str = "throttled by the back office"
    progress: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        encode_progress(self.progress)


@dataclass(frozen=True)
class Permanent:
    """Retrying will not help: the back office refuses the content, or the config is wrong."""

    reason: str
    code: str | None = None


Failure = Retryable | Throttled | Permanent
Outcome = Delivered | Failure
