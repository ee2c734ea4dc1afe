"""Reading one Kafka record as a Knooppunt event, and checking it against the published schema.

Pure functions, no Kafka: a record is a CloudEvent in binary mode, the payload as JSON in the
value and every attribute in a ``ce_<name>`` header (UTF-8). ``read_event`` returns the event or
raises ``NotAnEvent`` with a reason that names headers and fields, never a value, so the reason
may be logged: payloads carry personal data (a BSN), headers never do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["NotAnEvent", "ReceivedEvent", "Schemas", "read_event"]

# Every event the hub writes has these; ``tenant`` is Knooppunt's extension attribute.
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "tenant", "dataschema")
# ``dataschema`` names the exact contract version: urn:nld:knooppunt:schema:<type>:v<N>.
DATASCHEMA = re.compile(r"^urn:nld:knooppunt:schema:(?P<type>[a-z0-9.-]+):v(?P<version>[0-9]+)$")


class NotAnEvent(Exception):  # noqa: N818  (the name says what the record is)
    """The record is not a valid event; ``reason`` names what is wrong, never a value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ReceivedEvent:
    """One event as a back office needs it. ``source`` + ``id`` identify it: a redelivery of
    the same event has the same pair."""

    id: str
    source: str
    type: str
    tenant: str
    dataschema: str
    subject: str | None
    time: str | None
    data: Any

    @property
    def version(self) -> int:
        """The contract's major version, from ``dataschema``."""
        match = DATASCHEMA.fullmatch(self.dataschema)
        return int(match["version"]) if match else 0


def read_event(
    headers: Iterable[tuple[str, bytes | None]] | None, value: bytes | None
) -> ReceivedEvent:
    """The event in a record's ``ce_*`` headers and JSON value; NotAnEvent otherwise."""
    attributes: dict[str, str] = {}
    content_type = None
    for name, raw in headers or ():
        if name.lower() == "content-type" and raw is not None:
            content_type = raw.decode("utf-8", "replace")
        if not name.startswith("ce_"):
            continue  # other headers (the hub's knooppunt_*, a tracer's) are not the event
        if raw is None:
            raise NotAnEvent(f"header {name} has no value")
        if name[3:] in attributes:
            raise NotAnEvent(f"header {name} given twice")
        try:
            attributes[name[3:]] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotAnEvent(f"header {name} is not UTF-8") from None
    missing = [f"ce_{name}" for name in REQUIRED_ATTRIBUTES if not attributes.get(name)]
    if missing:
        raise NotAnEvent(f"missing header(s): {', '.join(missing)}")
    if attributes["specversion"] != "1.0":
        raise NotAnEvent("ce_specversion is not 1.0")
    if content_type is not None and content_type.split(";")[0].strip() != "application/json":
        raise NotAnEvent("content-type is not application/json")
    return ReceivedEvent(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        tenant=attributes["tenant"],
        dataschema=attributes["dataschema"],
        subject=attributes.get("subject"),
        time=attributes.get("time"),
        data=_json(value),
    )


def _json(value: bytes | None) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:  # I-JSON: no NaN or Infinity
        return json.loads(value or b"", parse_constant=refuse)
    except ValueError:
        raise NotAnEvent("the value is not JSON") from None


class Schemas:
    """The published JSON Schemas (``contracts/schemas/<type>/v<N>.json``), by their ``$id``,
    which is the ``dataschema`` of the events of that version.

    Validation allows members the schema does not know: within a major version the hub may add
    optional fields (FULL compatibility), and a consumer holding an older copy of ``v<N>.json``
    must still take the newer events. Everything else in the schema is checked.
    """

    def __init__(self, root: Path) -> None:
        self._validators: dict[str, Draft202012Validator] = {}
        for path in sorted(root.glob("*/v*.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise ValueError(f"{path}: not a JSON Schema ({exc.message})") from None
            self._validators[schema["$id"]] = Draft202012Validator(
                _tolerant(schema), format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        if not self._validators:
            raise ValueError(f"{root}: no schemas (expected <type>/v<N>.json files)")

    def __len__(self) -> int:
        return len(self._validators)

    def check(self, event: ReceivedEvent) -> None:
        """Raise NotAnEvent unless the payload is valid under the event's ``dataschema``."""
        validator = self._validators.get(event.dataschema)
        match = DATASCHEMA.fullmatch(event.dataschema)
        if validator is None or match is None:
            raise NotAnEvent(f"no schema for ce_dataschema {event.dataschema!r}")
        family = match["type"]
        if event.type != family and not event.type.startswith(family + "."):
            raise NotAnEvent(f"ce_type {event.type!r} is not of ce_dataschema's type {family!r}")
        error = best_match(validator.iter_errors(event.data))
        if error is not None:
            # The path and keyword only: the message would quote the value (a BSN, say).
            raise NotAnEvent(
                f"payload does not match {event.dataschema}: {error.json_path} ({error.validator})"
            )


def _tolerant(schema: Any) -> Any:
    """``schema`` without ``additionalProperties: false`` anywhere (see Schemas)."""
    if isinstance(schema, dict):
        return {
            key: _tolerant(value)
            for key, value in schema.items()
            if not (key == "additionalProperties" and value is False)
        }
    if isinstance(schema, list):
        return [_tolerant(item) for item in schema]
    return schema
