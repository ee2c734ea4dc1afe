"""Open Formulieren's generic JSON registration read as a submission (pure functions).

Open Formulieren's "Generic JSON registration" backend (plugin id ``json_dump``; Open Formulieren
3.1.1 and later, ``src/openforms/registrations/contrib/generic_json``) POSTs one JSON object per
completed submission to the configured service: ``values`` (the chosen form variables by key),
``values_schema`` (their JSON Schema, draft 2020-12), ``metadata`` (the chosen metadata
variables) and ``metadata_schema``. A file component's value is ``{"file_name", "content"}``
with the content in base64, ``null`` when nothing was uploaded, or a list of those with
``multiple``. It retries a failed registration (by default every 5 minutes, 5 times).

What the hub needs from ``metadata`` (the registration backend's "fixed" and "additional"
metadata variables):

- ``public_reference`` (required): the submission's public reference. The event id derives from
  it, so Open Formulieren's retries are recognised as the same submission;
- ``form_id`` (the form's UUID) or else ``form_name``: the form, as routes see it (``form.id``);
- ``auth_type`` (``bsn``, ``kvk``, ``pseudo``, ``employee_id`` or empty) with ``auth_bsn``,
  ``auth_kvk`` or ``auth_pseudo`` (metadata or values) for whom it proves;
- optional: ``submission_id`` (a UUID), ``registration_timestamp``, ``language_code``.

``read_registration`` returns the native contract's payload (without attachments) and the
files, in the order they appear; every problem is a SourceRefused(400) naming each field.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.sdk import SourceRefused

__all__ = ["OpenFormulierenFile", "Registration", "read_registration"]

_NAMESPACE = uuid.UUID("0c6f1a52-7b4e-4c1d-9a07-5e2f8d3b6a90")
_AUTH_METHODS = {
    "bsn": ("digid", "bsn", "auth_bsn"),
    "kvk": ("eherkenning", "kvk", "auth_kvk"),
    "pseudo": ("eidas", "pseudo_id", "auth_pseudo"),
}
_NO_LOGIN = {"", "employee_id", None}
_AUTH_KEYS = ("auth_bsn", "auth_kvk", "auth_pseudo", "auth_type")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class OpenFormulierenFile:
    """One uploaded file: where it was in ``values`` (``bijlagen[1]``), its name, bytes and
    content type (from the file name's extension; Open Formulieren sends none)."""

    path: str
    name: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class Registration:
    payload: dict[str, Any]  # nl.gemeente.formulier.ingediend v1, without attachments
    files: list[OpenFormulierenFile]


class _Problems:
    def __init__(self) -> None:
        self.found: list[dict[str, str]] = []

    def add(self, name: str, reason: str) -> None:
        self.found.append({"name": name, "code": "invalid", "reason": reason})

    def raise_any(self) -> None:
        if self.found:
            raise SourceRefused(
                400,
                "Invalid registration",
                f"{len(self.found)} invalid field(s): " + ", ".join(p["name"] for p in self.found),
                "invalid",
                self.found,
            )


def _is_file(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"file_name", "content"}


def _join(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def _take_files(
    value: Any, path: str, files: list[OpenFormulierenFile], problems: _Problems
) -> Any:
    """``value`` with each file replaced by ``{"file_name", "attachment": <index>}``."""
    if _is_file(value):
        name, content = value["file_name"], value["content"]
        if not isinstance(name, str) or not name or len(name) > 255:
            problems.add(_join(path, "file_name"), "a file name of 1 to 255 characters")
            return None
        try:
            data = base64.b64decode(content, validate=True) if isinstance(content, str) else None
        except (binascii.Error, ValueError):
            data = None
        if data is None:
            problems.add(_join(path, "content"), "must be the file's content in base64")
            return None
        guessed = mimetypes.guess_type(name, strict=False)[0]
        files.append(OpenFormulierenFile(path, name, data, guessed or "application/octet-stream"))
        return {"file_name": name, "attachment": len(files) - 1}
    if isinstance(value, dict):
        return {k: _take_files(v, _join(path, k), files, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_take_files(v, _join(path, i), files, problems) for i, v in enumerate(value)]
    return value


def _text(metadata: dict[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return value if isinstance(value, str) and value else None


def _form(metadata: dict[str, Any], problems: _Problems) -> dict[str, str]:
    form_id, name = _text(metadata, "form_id"), _text(metadata, "form_name")
    if form_id is None and name is not None:
        form_id = _SLUG_UNSAFE.sub("-", name.lower()).strip("-")[:100] or None
    if form_id is None:
        problems.add("metadata.form_id", "add form_id (or form_name) to the metadata variables")
        return {"id": "?", "name": "?"}
    return {"id": form_id[:100], "name": (name or form_id)[:200]}


def _authentication(
    metadata: dict[str, Any], values: dict[str, Any], problems: _Problems
) -> dict[str, Any]:
    auth_type = metadata.get("auth_type", values.get("auth_type"))
    if auth_type in _NO_LOGIN:
        return {"method": "none"}
    if auth_type not in _AUTH_METHODS:
        problems.add("metadata.auth_type", "one of bsn, kvk, pseudo, employee_id or empty")
        return {"method": "none"}
    method, field, key = _AUTH_METHODS[auth_type]
    identifier = metadata.get(key, values.get(key))
    if not isinstance(identifier, str) or not identifier:
        problems.add(
            f"metadata.{key}", f"auth_type {auth_type!r} needs {key} among the metadata variables"
        )
        return {"method": "none"}
    return {"method": method, field: identifier}


def _submitted_at(metadata: dict[str, Any], now: datetime, problems: _Problems) -> str:
    text = _text(metadata, "registration_timestamp")
    if text is None:
        return now.astimezone(UTC).isoformat()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.add("metadata.registration_timestamp", "an ISO 8601 date-time with an offset")
        return now.astimezone(UTC).isoformat()
    return moment.isoformat()


def _submission_id(tenant: str, metadata: dict[str, Any], reference: str) -> str:
    given = _text(metadata, "submission_id")
    if given is not None:
        try:
            return str(uuid.UUID(given))
        except ValueError:
            pass
    return str(uuid.uuid5(_NAMESPACE, f"{tenant}:{reference}"))


def read_registration(body: dict[str, Any], tenant: str, now: datetime) -> Registration:
    """The submission in Open Formulieren's generic JSON ``body``. Raises SourceRefused(400)
    naming every field that is missing or wrong (all at once)."""
    problems = _Problems()
    values, metadata = body.get("values"), body.get("metadata")
    if not isinstance(values, dict):
        problems.add("values", "an object: the form's variables by key")
        values = {}
    if not isinstance(metadata, dict):
        problems.add("metadata", "an object: the registration's metadata variables")
        metadata = {}
    reference = _text(metadata, "public_reference")
    if reference is None or len(reference) > 64:
        problems.add(
            "metadata.public_reference",
            "add public_reference to the metadata variables (1 to 64 characters)",
        )
        reference = "?"
    files: list[OpenFormulierenFile] = []
    answers = {
        key: _take_files(value, _join("values", key), files, problems)
        for key, value in values.items()
        if key not in _AUTH_KEYS  # who logged in travels in ``authentication`` only
    }
    language = _text(metadata, "language_code")
    payload = {
        "submission_id": _submission_id(tenant, metadata, reference),
        "reference": reference,
        "form": _form(metadata, problems),
        "language": language if language and re.fullmatch("[a-z]{2}", language) else "nl",
        "submitted_at": _submitted_at(metadata, now, problems),
        "authentication": _authentication(metadata, values, problems),
        "values": answers,
    }
    problems.raise_any()
    return Registration(payload, files)
