"""Reading JSON the way every consumer downstream will read it: I-JSON (RFC 7493).

A payload travels through Kafka to back offices written in any language; most read numbers as
IEEE 754 doubles. So the hub accepts only JSON that every such reader gets exactly right, and
refuses the rest at the edge, naming the field (RFC 7493 I-JSON, on top of RFC 8259):

- text is UTF-8 without lone surrogates or noncharacters (§2.1);
- numbers are finite and carried exactly by a double: integers within ±(2**53 - 1), and other
  numbers whose decimal value survives the round trip through a double (§2.2); the bare tokens
  ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON at all (RFC 8259 §6);
- an object never names a member twice (§2.3).

``parse_ijson`` raises ContractError whose ``field`` is the dotted path of the offending value
(``values.aantal``, ``attachments[0].name``); the root is ``data`` unless told otherwise.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from contracts.errors import ContractError

__all__ = ["MAX_SAFE_INTEGER", "parse_ijson"]

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 7493 §2.2; JavaScript's Number.MAX_SAFE_INTEGER
MAX_DEPTH = 64  # deeper documents are refused: no back office needs them, and they cost stack


class _Pairs(list[tuple[str, Any]]):
    """An object as its member list, so that duplicate names can be found (and named) later."""


class _Number:
    """A number as written, checked once its place in the document is known."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _where(path: str, root: str) -> str:
    return path or root


def _check_text(text: str, path: str, root: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ContractError(
            "contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text "
            "(RFC 7493 §2.1)",
            _where(path, root),
        ) from exc


def _number(text: str, path: str, root: str) -> int | float:
    if text.lstrip("-").isdigit():
        integer = int(text)
        if abs(integer) > MAX_SAFE_INTEGER:
            raise ContractError(
                f"the integer {text[:24]}{'...' if len(text) > 24 else ''} is outside "
                f"±{MAX_SAFE_INTEGER} and would not arrive exactly (RFC 7493 §2.2); "
                "send it as a string",
                _where(path, root),
            )
        return integer
    value = float(text)
    try:
        exact = Decimal(text) == Decimal(repr(value))
    except InvalidOperation:  # pragma: no cover - json only hands over valid numbers
        exact = False
    if value in (float("inf"), float("-inf")) or not exact:
        raise ContractError(
            f"the number {text[:24]}{'...' if len(text) > 24 else ''} has more range or "
            "precision than a double and would not arrive exactly (RFC 7493 §2.2); "
            "send it as a string",
            _where(path, root),
        )
    return value


def _settle(value: Any, path: str, root: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ContractError(f"nested deeper than {MAX_DEPTH} levels", _where(path, root))
    if isinstance(value, _Number):
        return _number(value.text, path, root)
    if isinstance(value, _Constant):
        raise ContractError(f"{value.name} is not a JSON value (RFC 8259 §6)", _where(path, root))
    if isinstance(value, str):
        _check_text(value, path, root)
        return value
    if isinstance(value, _Pairs):
        settled: dict[str, Any] = {}
        for key, member in value:
            _check_text(key, path, root)
            where = _join(path, key)
            if key in settled:
                raise ContractError("member named twice in one object (RFC 7493 §2.3)", where)
            settled[key] = _settle(member, where, root, depth + 1)
        return settled
    if isinstance(value, list):
        return [_settle(item, _join(path, i), root, depth + 1) for i, item in enumerate(value)]
    return value  # True, False, None


_NOT_CLEAN = object()


class _UncleanError(Exception):
    """The quick reading met something it leaves to the careful one (which names the field)."""


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _UncleanError
    return members


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse_clean(raw: str) -> Any:
    """The document when it is obviously I-JSON, else ``_NOT_CLEAN``: one ``json.loads`` with
    C-speed objects and no walk afterwards, for the payloads nearly every event has.

    Obvious means: no ``\\u`` escapes (so no lone surrogate, as ``raw`` itself has none), at
    most ``MAX_DEPTH`` brackets in all (so never nested deeper), no member named twice, every
    number as ``_number`` takes it, no NaN or Infinity. Anything else, valid or not, is read
    again by the careful path, which gives the same values or the error.
    """
    if "\\u" in raw or raw.count("{") + raw.count("[") > MAX_DEPTH:
        return _NOT_CLEAN
    try:
        return _QUICK.decode(raw)
    except (_UncleanError, ContractError, ValueError, RecursionError):
        return _NOT_CLEAN


def _quick_number(text: str) -> int | float:
    return _number(text, "", "")


def _refuse_constant(_name: str) -> Any:
    raise _UncleanError


# One decoder for every quick reading (json.loads with hooks would build one per document).
_QUICK = json.JSONDecoder(
    object_pairs_hook=_members,
    parse_int=_quick_number,
    parse_float=_quick_number,
    parse_constant=_refuse_constant,
)


class _Constant:
    """``NaN``, ``Infinity`` or ``-Infinity``: refused once its place is known."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def parse_ijson(raw: bytes | str, root: str = "data") -> Any:
    """The JSON document in ``raw`` as Python values (dict, list, str, int, float, bool, None).

    Raises ContractError naming the field (a dotted path below ``root``) when the text is not
    JSON, not UTF-8, or breaks an I-JSON rule above.
    """
    text_checked = isinstance(raw, bytes)  # decoding refuses lone surrogates
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError(f"not UTF-8 text (byte {exc.start})", root) from exc
    if not raw.strip():
        raise ContractError("empty: no JSON value (a record without a value is no event)", root)
    if text_checked or _encodes(raw):
        clean = _parse_clean(raw)
        if clean is not _NOT_CLEAN:
            return clean
    try:
        tree = json.loads(
            raw,
            object_pairs_hook=_Pairs,
            parse_int=_Number,
            parse_float=_Number,
            parse_constant=_Constant,
        )
    except RecursionError as exc:
        raise ContractError(f"nested deeper than {MAX_DEPTH} levels", root) from exc
    except ValueError as exc:  # json.JSONDecodeError
        raise ContractError(f"not JSON: {exc}", root) from exc
    return _settle(tree, "", root, 0)
