"""Settings of the ``objects-api`` sink (a destination's ``settings:`` in the hub config).

What the config can check alone it checks here: the shape of every path, that a source path
starts at a field the submission has, that no two targets overlap. What needs the objecttype's
JSON Schema (does the field exist, is every required field mapped) is checked at start, when
the sink has fetched it (connectors/objects_api/schema.py).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    JsonValue,
    ValidationInfo,
    field_validator,
)

from connectors.sdk import SecretName
from contracts.formulier.v2 import FormulierIngediend

__all__ = ["Constant", "ObjectsApiConfig", "Source", "check_source_path", "check_target_path"]

# A data field's path: names joined by dots (nested objects). No "__" and no ",": the Objects
# API's data_attr filter uses "__" between nested names and "," between expressions.
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_TARGET = re.compile(rf"^{_NAME}(?:\.{_NAME})*$")
# A source path: names or list indexes joined by dots, starting at a top-level submission field.
_SOURCE = re.compile(rf"^{_NAME}(?:\.[^.\s]+)*$")
SUBMISSION_FIELDS = frozenset(FormulierIngediend.model_fields)


def check_target_path(path: str) -> str:
    """``path`` when it names a data field (``kenteken``, ``aanvraag.kenteken``); ValueError
    otherwise."""
    if not _TARGET.fullmatch(path) or "__" in path:
        raise ValueError(
            f"{path!r} is not a data field path: names (letters, digits, _ and -, not '__') "
            "joined by dots"
        )
    return path


def check_source_path(path: str) -> str:
    """``path`` when it is a dotted path into the submission (v2 shape) that starts at one of
    its fields; ValueError naming the fields otherwise."""
    if not _SOURCE.fullmatch(path):
        raise ValueError(f"{path!r} is not a dotted path such as values.kenteken or form.id")
    first = path.split(".", 1)[0]
    if first not in SUBMISSION_FIELDS:
        known = ", ".join(sorted(SUBMISSION_FIELDS))
        raise ValueError(f"{path!r} does not start at a submission field ({known})")
    return path


class Constant(BaseModel):
    """A fixed value for a data field, the same in every object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    constant: JsonValue = Field(description="The value, any JSON value.")


Source = str | Constant  # a source path (str) or a constant


def _overlapping(paths: list[str]) -> list[str]:
    """The paths that lie inside another of ``paths`` (``a.b`` inside ``a``)."""
    given = set(paths)
    return sorted(
        path
        for path in given
        if any(".".join(path.split(".")[:n]) in given for n in range(1, path.count(".") + 1))
    )


class ObjectsApiConfig(BaseModel):
    """Where the objects go and what they hold. Secrets are never in the config: ``token_env``
    names the environment variable holding the Objects API token (sent as
    ``Authorization: Token <token>``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    objects_api: HttpUrl = Field(
        description="Base URL of the Objects API, up to and including /api/v2."
    )
    objecttype: HttpUrl = Field(
        description="URL of the objecttype in the Objecttypes API (the object's `type`)."
    )
    objecttype_version: int = Field(
        ge=1, le=32767, description="The objecttype version whose JSON Schema the data follows."
    )
    token_env: SecretName = Field(
        description="Environment variable holding the Objects API token. Checked at start."
    )
    objecttypes_token_env: str | None = Field(
        None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the Objecttypes API token; default: the "
        "token of token_env (Open Objecten 4 serves both APIs).",
    )
    data: dict[str, Source] = Field(
        min_length=1,
        description="The object's data: each data field (a dotted path into `data`) from a "
        "dotted path into the submission (v2 shape: values.kenteken, reference, form.id, "
        "authentication.legal_subject.value) or {constant: <JSON value>}. A source that is "
        "absent or null leaves the field out. Checked at start against the objecttype version's "
        "JSON Schema: every field must exist there and every required one be mapped.",
    )
    idempotency_field: str = Field(
        description="Data field (a string in the schema) that holds the delivery's step key, a "
        "UUID: looked up before each create, so a redelivery never makes a second object.",
    )
    geometry: str | None = Field(
        None,
        description="Dotted path into the submission of a GeoJSON geometry (WGS84) for "
        "record.geometry; none: no geometry.",
    )
    lookup_parameter: Literal["data_attr", "data_attrs"] = Field(
        "data_attr",
        description="The list filter of the lookup: data_attr (Objects API 2.5 and newer, "
        "Open Objecten 3), or data_attrs for older versions.",
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, description="Per request, in seconds; a slower answer is retried."
    )

    @field_validator("objects_api", "objecttype")
    @classmethod
    def _no_credentials(cls, url: HttpUrl) -> HttpUrl:
        if url.username or url.password:
            raise ValueError("no user or password in the url (config and logs); use token_env")
        return url

    @field_validator("data")
    @classmethod
    def _mapping(cls, data: dict[str, Source]) -> dict[str, Source]:
        problems: list[str] = []
        for target, source in data.items():
            try:
                check_target_path(target)
                if isinstance(source, str):
                    check_source_path(source)
            except ValueError as exc:
                problems.append(f"data.{target}: {exc}")
        problems += [f"data.{path}: inside another mapped field" for path in _overlapping([*data])]
        if problems:
            raise ValueError("; ".join(problems))
        return data

    @field_validator("idempotency_field")
    @classmethod
    def _idempotency_field(cls, path: str, info: ValidationInfo) -> str:
        check_target_path(path)
        mapped = info.data.get("data") or {}
        if path in mapped:
            raise ValueError(f"{path!r} is filled by the sink; remove it from data")
        inside = _overlapping([*mapped, path])
        if inside:
            raise ValueError(f"{path!r} overlaps the mapped field {inside[0]!r}")
        return path

    @field_validator("geometry")
    @classmethod
    def _geometry(cls, path: str | None) -> str | None:
        return None if path is None else check_source_path(path)
