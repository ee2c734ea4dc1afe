"""What the sink says to the Objects API and reads from its answers (Objects API 2.x, OpenAPI
``src/objects/api/v2/openapi.yaml`` of Open Objecten). Plain functions, no I/O.

- ``GET /objects?type=<objecttype>&data_attr=<field>__exact__<value>``: the lookup (list
  filter on a data field; nested names joined by ``__``); answer ``PaginatedObjectList``
  ``{count, next, previous, results: [Object]}``.
- ``POST /objects`` with ``Content-Crs: EPSG:4326`` (required: else 412) and an ``Object``
  ``{type, record: {typeVersion, data, geometry?, startAt}}``; answer 201 with the Object
  (``url``, ``uuid``, ``record.index``...).
- Errors in the VNG API format (``vng_api_common``): ``{type, code, title, status, detail,
  instance, invalidParams: [{name, code, reason}]}``; a schema refusal is 400 with
  ``invalidParams[].name`` ``nonFieldErrors`` and ``code`` ``invalid-json-schema``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from connectors.sdk import HttpResponse

__all__ = [
    "CONTENT_CRS",
    "create_body",
    "found_object",
    "lookup_query",
    "object_url",
]

CONTENT_CRS = "EPSG:4326"  # WGS84, the only CRS the Objects API takes (GeoJSON's default)


def lookup_query(objecttype: str, parameter: str, field: str, value: str) -> str:
    """The query string that finds the objects of ``objecttype`` whose data field ``field``
    (dotted) equals ``value`` (a UUID: no ``__`` and no ``,``, which the filter forbids)."""
    expression = f"{field.replace('.', '__')}__exact__{value}"
    return urlencode({"type": objecttype, parameter: expression})


def found_object(response: HttpResponse) -> str | None:
    """The URL of the first object in a list answer, None when it lists none. ValueError when
    the answer is not a ``PaginatedObjectList``."""
    body = response.json()
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise ValueError("not an Objects API list answer")
    if not results:
        return None
    url = results[0].get("url") if isinstance(results[0], dict) else None
    if not isinstance(url, str):
        raise ValueError("a listed object without a url")
    return url


def create_body(
    objecttype: str,
    version: int,
    data: dict[str, Any],
    start_at: str,
    geometry: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``Object`` to POST: ``type`` and its first ``record``."""
    record: dict[str, Any] = {"typeVersion": version, "data": data, "startAt": start_at}
    if geometry is not None:
        record["geometry"] = geometry
    return {"type": objecttype, "record": record}


def object_url(response: HttpResponse) -> str | None:
    """The created object's ``url`` (the body's), else the Location header, else None."""
    try:
        body = response.json()
    except ValueError:
        body = None
    url = body.get("url") if isinstance(body, dict) else None
    return url if isinstance(url, str) else response.location()
