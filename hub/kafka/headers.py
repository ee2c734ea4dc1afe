"""Reading Kafka record headers that the hub itself wrote (``knooppunt_*`` history, ``ce_*``
attributes for display). Never raises: a value that is null or not UTF-8 is left out, so a
hostile header can never stop a consumer. What a CloudEvent *is* is read strictly, elsewhere
(``contracts.cloudevents.CloudEvent.from_kafka``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["RecordHeaders", "text_headers"]

RecordHeaders = tuple[tuple[str, bytes | None], ...]


def text_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """The headers that have a UTF-8 value, by name; the first of a name given twice wins."""
    texts: dict[str, str] = {}
    for name, raw in headers or ():
        if raw is None or name in texts:
            continue
        try:
            texts[name] = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts
