"""parse_ijson reads most payloads on a quick path (one json.loads, no walk); whatever it
reads, the answer must be the careful path's: the same values, or the same error and field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import ijson
from contracts.errors import ContractError
from contracts.ijson import MAX_DEPTH, parse_ijson


def _careful(raw: bytes | str) -> Any:
    """The careful path alone (the quick one told to give up on everything)."""
    original = ijson._parse_clean
    ijson._parse_clean = lambda _raw: ijson._NOT_CLEAN  # type: ignore[assignment]
    try:
        return _outcome(raw)
    finally:
        ijson._parse_clean = original


def _outcome(raw: bytes | str) -> Any:
    try:
        value = parse_ijson(raw)
    except ContractError as exc:
        return ("error", exc.field, str(exc))
    return ("value", json.dumps(value, sort_keys=True), _types(value))


def _types(value: Any) -> Any:
    """The Python types throughout (1 and 1.0 and True must stay apart)."""
    if isinstance(value, dict):
        return {key: _types(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value).__name__


HOSTILE = [
    b'{"a": 1, "a": 2}',
    b'{"a": {"b": 1, "b": 1}}',
    b'{"n": 9007199254740992}',
    b'{"n": -9007199254740991}',
    b'{"n": 0.1}',
    b'{"n": 1e400}',
    b'{"n": 0.30000000000000000000001}',
    b'{"n": NaN}',
    b'{"n": -Infinity}',
    b'{"s": "\\ud800"}',
    b'{"s": "\\u00e9\\ud83d\\ude00"}',
    b'{"s": "\\u0000"}',
    b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    b"[" * MAX_DEPTH + b"1" + b"]" * MAX_DEPTH,
    b'{"a": [1, 2.5, true, false, null, "x"], "b": {"c": {}}}',
    b'{"a": 1} x',
    b"",
    b"   ",
    b"\xff",
    b'"just a string"',
    b"7",
    b'{"k": "{[{[ brackets in a string ]}]}"}',
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_the_quick_path_answers_as_the_careful_one(raw: bytes) -> None:
    assert _outcome(raw) == _careful(raw)


def test_a_str_with_a_lone_surrogate_is_refused_with_its_field() -> None:
    raw = '{"name": "x\ud800"}'
    assert _outcome(raw) == _careful(raw)
    assert _outcome(raw)[:2] == ("error", "name")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
def test_any_json_document_reads_the_same_on_both_paths(document: Any) -> None:
    for raw in (json.dumps(document), json.dumps(document, ensure_ascii=False)):
        assert _outcome(raw) == _careful(raw)
