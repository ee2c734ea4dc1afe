"""CloudEvents 1.0 on Kafka (the Kafka protocol binding), following the NL GOV profile.

Binary mode is what Knooppunt writes: the payload as JSON in the record value, every attribute in
its own ``ce_<name>`` header (binding §3.2.3), ``content-type`` for ``datacontenttype``
(§3.2.1). Structured mode (``content-type: application/cloudevents+json``, the whole event as one
JSON object in the value, §3.3) is read too. Any record is read strictly, and a record that is
not a valid event raises ContractError naming the header or attribute, never anything else:

- header names and values are UTF-8 (§3.2.3); a ``ce_`` header without a value, with bytes that
  are not UTF-8, or given twice is refused;
- attribute names are lowercase ASCII letters and digits (CloudEvents §3.1.1), values follow the
  type system (§3.1.1: no control characters, noncharacters or lone surrogates), ``time`` is an
  RFC 3339 timestamp with an offset, required attributes are non-empty;
- headers without the ``ce_`` prefix (other than ``content-type``) are not part of the event
  and are ignored; extension attributes are carried through unchanged.

The trace context is the Distributed Tracing extension's ``traceparent`` (``ce_traceparent``; a
plain W3C ``traceparent`` header is read as well). Only the W3C Trace Context form
``00-<32 hex>-<16 hex>-<2 hex>`` (§3.2) is kept; any other value is dropped, so a broken trace
header never stops an event.

Attributes never carry personal data: the subject is an id of the case or submission, never a BSN.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import orjson

from contracts.errors import ContractError
from contracts.identifiers import passes_elfproef
from contracts.ijson import parse_ijson

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "SPEC_VERSION",
    "CloudEvent",
    "source_urn",
    "valid_traceparent",
]

SPEC_VERSION = "1.0"
STRUCTURED_CONTENT_TYPE = "application/cloudevents"
_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")
_SOURCE_PATTERN = re.compile(r"^urn:nld:oin:[0-9]{20}:systeem:[A-Za-z0-9._-]+$")
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)
_TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")
# CloudEvents type system, String: no control characters, no noncharacters.
_NOT_ALLOWED = re.compile(
    "[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))
    + "]"
)
# The same, for ASCII text: searching the class above costs 15 us for 200 characters (its
# astral ranges), this one a fraction of a microsecond; attributes are nearly always ASCII.
_ASCII_NOT_ALLOWED = re.compile("[\x00-\x1f\x7f]")
_REQUIRED = ("id", "source", "specversion", "type")
_CORE = frozenset(
    {*_REQUIRED, "datacontenttype", "dataschema", "subject", "time", "data", "data_base64"}
)
_OWN_EXTENSIONS = frozenset({"tenant", "traceparent"})
_NOT_EXTENSIONS = _CORE | _OWN_EXTENSIONS
_WELL_KNOWN = _NOT_EXTENSIONS - {"data_base64"}  # valid names: no pattern needed


def source_urn(oin: str, system: str) -> str:
    """The NL GOV profile's ``source``: ``urn:nld:oin:<OIN>:systeem:<name>``."""
    return f"urn:nld:oin:{oin}:systeem:{system}"


def valid_traceparent(value: str | None) -> str | None:
    """``value`` when it is a W3C Trace Context ``traceparent`` of version 00, else None."""
    return value if value is not None and _TRACEPARENT.fullmatch(value) else None


def _has_not_allowed(text: str) -> bool:
    pattern = _ASCII_NOT_ALLOWED if text.isascii() else _NOT_ALLOWED
    return pattern.search(text) is not None


# A handful of types and sources recur in every record: each is checked once (bounded cache).
@functools.lru_cache(maxsize=1024)
def _valid_type(value: str) -> bool:
    return _TYPE_PATTERN.fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def _valid_source(value: str) -> bool:
    return _SOURCE_PATTERN.fullmatch(value) is not None


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


@dataclass(frozen=True)
class CloudEvent:
    """One event: its CloudEvents attributes and its JSON payload (``data``, already encoded).

    ``extensions`` holds every extension attribute other than ``tenant`` and ``traceparent``
    (their canonical string form), carried through to every copy and delivery.
    """

    id: str
    source: str
    type: str
    tenant: str
    data: bytes
    subject: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str | None = None
    datacontenttype: str = "application/json"
    traceparent: str | None = None
    extensions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not _valid_type(self.type):
            raise ContractError("must be reverse-DNS, e.g. nl.gemeente.formulier.ingediend", "type")
        if not _valid_source(self.source):
            raise ContractError("must be urn:nld:oin:<20-digit OIN>:systeem:<name>", "source")
        if self.subject is not None and passes_elfproef(self.subject):
            raise ContractError(
                "must never be a BSN; use the id of the case or submission", "subject"
            )
        if not _is_json(self.datacontenttype):
            raise ContractError(
                f"{self.datacontenttype!r}: contract payloads are JSON (application/json)",
                "datacontenttype",
            )

    def attributes(self) -> dict[str, str]:
        """Every attribute but ``data``, in canonical string form (absent ones left out)."""
        time = self.time if self.time.tzinfo else self.time.replace(tzinfo=UTC)
        core: dict[str, str | None] = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": time.isoformat(),
            "subject": self.subject,
            "dataschema": self.dataschema,
            "tenant": self.tenant,
            "traceparent": self.traceparent,
        }
        present = {name: value for name, value in core.items() if value is not None}
        return present | dict(self.extensions)

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Binary-mode headers: ``ce_<attribute>`` plus ``content-type``."""
        headers = [(f"ce_{name}", value.encode()) for name, value in self.attributes().items()]
        headers.append(("content-type", self.datacontenttype.encode()))
        return headers

    def payload(self) -> Any:
        """The data as Python values, read as I-JSON (contracts.ijson); ContractError names the
        field that breaks it."""
        return parse_ijson(self.data)

    @classmethod
    def from_kafka(
        cls, headers: Iterable[tuple[str, bytes | None]], value: bytes | None
    ) -> CloudEvent:
        """Read an event in binary or structured mode; raise ContractError naming what is wrong."""
        attributes: dict[str, str] = {}
        content_type: str | None = None
        plain_traceparent: str | None = None
        for name, raw in headers:
            if name.startswith("ce_"):  # the usual case first: an attribute, as the hub writes it
                attribute = name[3:]
            else:
                lowered = name.lower()
                if lowered == "content-type":
                    content_type = _header_text(name, raw)
                    continue
                if lowered == "traceparent":
                    plain_traceparent = _lenient_text(raw)
                    continue
                if not lowered.startswith("ce_"):
                    continue
                attribute = name[3:]
            if attribute not in _WELL_KNOWN and not _ATTRIBUTE_NAME.fullmatch(attribute):
                raise ContractError(
                    "not a CloudEvents attribute name (lowercase a-z and 0-9 only, "
                    "CloudEvents §3.1.1)",
                    _printable(name),
                )
            if attribute in attributes:
                raise ContractError("header given twice", name)
            attributes[attribute] = _header_text(name, raw)
        if content_type is not None and content_type.lower().startswith(STRUCTURED_CONTENT_TYPE):
            return cls._from_structured(content_type, value)
        if "traceparent" not in attributes and plain_traceparent is not None:
            attributes["traceparent"] = plain_traceparent
        return cls._build(attributes, value or b"", content_type, "ce_")

    @classmethod
    def _from_structured(cls, content_type: str, value: bytes | None) -> CloudEvent:
        if not content_type.lower().startswith(STRUCTURED_CONTENT_TYPE + "+json"):
            raise ContractError(
                f"{content_type!r}: only the JSON event format is read", "content-type"
            )
        document = parse_ijson(value or b"", root="value")
        if not isinstance(document, dict):
            raise ContractError("a structured event must be a JSON object", "value")
        if "data_base64" in document:
            raise ContractError("binary data is not a contract payload; send JSON data", "value")
        attributes: dict[str, str] = {}
        for name, member in document.items():
            if name == "data" or member is None:
                continue
            if not _ATTRIBUTE_NAME.fullmatch(name):
                raise ContractError(
                    "not a CloudEvents attribute name (lowercase a-z and 0-9 only)",
                    _printable(name),
                )
            attributes[name] = _canonical(name, member)
        data = orjson.dumps(document["data"]) if document.get("data") is not None else b""
        return cls._build(attributes, data, attributes.pop("datacontenttype", None), "")

    @classmethod
    def _build(
        cls,
        attributes: dict[str, str],
        data: bytes,
        content_type: str | None,
        prefix: str,
    ) -> CloudEvent:
        for name in (*_REQUIRED, "tenant"):
            if not attributes.get(name):
                what = "extension attribute" if name == "tenant" else "CloudEvents attribute"
                raise ContractError(f"missing or empty {what}", prefix + name)
        if _has_not_allowed("".join(attributes.values())):  # one search; then which one
            for name, text in attributes.items():
                bad = _NOT_ALLOWED.search(text)
                if bad:
                    raise ContractError(
                        f"contains U+{ord(bad.group()):04X}, not allowed in a CloudEvents string",
                        prefix + name,
                    )
        if attributes["specversion"] != SPEC_VERSION:
            raise ContractError(
                f"unsupported specversion, expected {SPEC_VERSION}", prefix + "specversion"
            )
        time = attributes.get("time")
        if time is not None and not _RFC3339.fullmatch(time):
            raise ContractError("not an RFC 3339 timestamp with an offset", prefix + "time")
        if "subject" in attributes and not attributes["subject"]:
            raise ContractError("must not be empty when present", prefix + "subject")
        extensions = {
            name: text for name, text in attributes.items() if name not in _NOT_EXTENSIONS
        }
        try:
            return cls(
                id=attributes["id"],
                source=attributes["source"],
                type=attributes["type"],
                tenant=attributes["tenant"],
                data=data,
                subject=attributes.get("subject"),
                time=datetime.fromisoformat(time) if time else datetime.now(UTC),
                dataschema=attributes.get("dataschema"),
                datacontenttype=content_type or "application/json",
                traceparent=valid_traceparent(attributes.get("traceparent")),
                extensions=MappingProxyType(extensions),
            )
        except ContractError as exc:
            where = exc.field or ""
            where = "content-type" if prefix and where == "datacontenttype" else prefix + where
            raise ContractError(exc.reason, where) from exc
        except ValueError as exc:  # a date that matches the pattern but does not exist
            raise ContractError(f"not a valid timestamp: {exc}", prefix + "time") from exc


def _printable(name: str) -> str:
    """A header or attribute name fit to quote in an error (it may itself be hostile)."""
    return name[:64].encode("ascii", "backslashreplace").decode()


def _header_text(name: str, raw: bytes | None) -> str:
    if raw is None:
        raise ContractError("header without a value", _printable(name))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(
            f"header value is not UTF-8 (byte {exc.start}); the Kafka binding requires UTF-8",
            _printable(name),
        ) from exc


def _lenient_text(raw: bytes | None) -> str | None:
    try:
        return None if raw is None else raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _canonical(name: str, member: object) -> str:
    """A structured-mode attribute's canonical string (CloudEvents type system, JSON format
    §2.2: strings as is, integers and booleans in their string form)."""
    if isinstance(member, str):
        return member
    if isinstance(member, bool):
        return "true" if member else "false"
    if isinstance(member, int) and name not in _CORE:
        return str(member)
    raise ContractError(f"attribute must be a string, not {type(member).__name__}", name)
