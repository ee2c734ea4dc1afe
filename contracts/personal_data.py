"""Which fields of a contract hold personal data: one declaration, read by everything that must
protect it (redaction of shown dead letters, the route-condition check, later encryption).

A field is declared with ``typing.Annotated``::

    bsn: Annotated[Bsn | None, PersonalData(PersonalDataKind.BSN)] = Field(None, ...)

The declaration shows in the contract's JSON Schema as the extension keyword
``"x-personal-data": "bsn"`` (so docs/contracts.md and any consumer of the schema see it), and
``personal_data_paths`` finds it by walking the model. Paths are dotted, with ``[]`` for the
items of a list and ``*`` for the values of a mapping: ``attachments[].name``.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Protocol, Union, get_args, get_origin

from pydantic import BaseModel

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = [
    "SCHEMA_KEYWORD",
    "PersonalData",
    "PersonalDataKind",
    "path_segments",
    "personal_data_at",
    "personal_data_paths",
]

SCHEMA_KEYWORD = "x-personal-data"


class PersonalDataKind(StrEnum):
    """What kind of personal data (AVG/GDPR art. 4(1): any information relating to an
    identified or identifiable natural person) a field holds.

    - ``bsn``: the burgerservicenummer, a national identification number (AVG art. 87; UAVG
      art. 46 allows it only where a law does).
    - ``kvk``: a KvK number; of a sole trader (eenmanszaak) it identifies a person.
    - ``identifier``: an identifier whose type travels beside it (BSN, KvK, RSIN or pseudonym);
      protected as the strictest of those, a BSN.
    - ``pseudonym``: a pseudonym (e.g. eIDAS); pseudonymised data is still personal data (AVG
      art. 4(5), recital 26).
    - ``name``, ``address``, ``birth_date``: identifying data of a person.
    - ``email``, ``phone``: contact data of a person.
    - ``content``: free content written by or about a person whose meaning the hub does not know
      (a message's personalisation, an uploaded file's name or bytes); it may hold any of the
      above, and special categories (AVG art. 9) too.
    """

    BSN = "bsn"
    KVK = "kvk"
    IDENTIFIER = "identifier"
    PSEUDONYM = "pseudonym"
    NAME = "name"
    ADDRESS = "address"
    BIRTH_DATE = "birth_date"
    EMAIL = "email"
    PHONE = "phone"
    CONTENT = "content"


@dataclass(frozen=True)
class PersonalData:
    """The marker in ``Annotated[...]``: this field holds personal data of ``kind``."""

    kind: PersonalDataKind

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema[SCHEMA_KEYWORD] = self.kind.value
        return schema


class _HasModel(Protocol):
    """A ContractSpec, without importing the registry (which imports every contract)."""

    @property
    def model(self) -> type[BaseModel]: ...


def personal_data_paths(spec_or_model: _HasModel | type[BaseModel]) -> dict[str, PersonalDataKind]:
    """Every declared field of a contract (a ContractSpec or a model), by dotted path with field
    names as on the wire, found through nested models, lists, mappings and optionals. TypeError
    for a recursive model, whose paths would never end."""
    model = spec_or_model if isinstance(spec_or_model, type) else spec_or_model.model
    found: dict[str, PersonalDataKind] = {}
    _walk_model(model, "", found, ())
    return found


def _marker(metadata: Sequence[Any]) -> PersonalData | None:
    return next((m for m in metadata if isinstance(m, PersonalData)), None)


def _walk_model(
    model: type[BaseModel], prefix: str, found: dict[str, PersonalDataKind], seen: tuple[type, ...]
) -> None:
    if model in seen:  # its paths would never end; event payloads have no need of recursion
        chain = " -> ".join(m.__name__ for m in (*seen, model))
        raise TypeError(f"a recursive model cannot declare personal data by path: {chain}")
    for name, field in model.model_fields.items():
        path = prefix + (field.alias or name)
        marker = _marker(field.metadata)
        if marker is not None:
            found[path] = marker.kind
        else:
            _walk_type(field.annotation, path, found, (*seen, model))


def _walk_type(
    annotation: Any, path: str, found: dict[str, PersonalDataKind], seen: tuple[type, ...]
) -> None:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        marker = _marker(annotation.__metadata__)
        if marker is not None:
            found[path] = marker.kind
        else:
            _walk_type(args[0], path, found, seen)
    elif origin in (Union, types.UnionType):
        for arg in args:
            _walk_type(arg, path, found, seen)
    elif isinstance(origin, type) and issubclass(origin, Mapping):
        if len(args) == 2:
            _walk_type(args[1], f"{path}.*", found, seen)
    elif isinstance(origin, type) and issubclass(origin, Sequence | set | frozenset):
        for arg in args:
            if arg is not Ellipsis:
                _walk_type(arg, f"{path}[]", found, seen)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _walk_model(annotation, f"{path}.", found, seen)


def path_segments(path: str) -> tuple[str, ...]:
    """``attachments[].name`` as ``("attachments", "[]", "name")``."""
    segments: list[str] = []
    for part in path.split("."):
        name = part.removesuffix("[]")
        segments.append(name)
        segments.extend(["[]"] * ((len(part) - len(name)) // 2))
    return tuple(segments)


def personal_data_at(
    path: str, declared: Mapping[str, PersonalDataKind]
) -> PersonalDataKind | None:
    """The kind of personal data a dotted payload ``path`` names: a declared field, or anything
    inside one (``personalisatie.naam`` inside a declared ``personalisatie``). In ``declared``,
    ``[]`` stands for any list index (``attachments.0.name``) and ``*`` for any key."""
    wanted = tuple(path.split("."))
    for declared_path, kind in declared.items():
        if _reaches(path_segments(declared_path), wanted):
            return kind
    return None


def _reaches(declared: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Whether ``wanted`` is the declared field or lies inside it."""
    if not declared:
        return True
    head, rest = declared[0], declared[1:]
    if head == "[]":  # an index, or nothing (a path that skips the list)
        if wanted and wanted[0].isdigit() and _reaches(rest, wanted[1:]):
            return True
        return _reaches(rest, wanted)
    return bool(wanted) and head in ("*", wanted[0]) and _reaches(rest, wanted[1:])
