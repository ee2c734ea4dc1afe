"""The Notificaties API's OpenAPI document: FastAPI's, of the API's own routes, in the shape of
the published Notificaties API 1.0 document (OpenAPI 3.0.3, ``servers: /api/v1`` and paths
relative to it, ``operationId`` s such as ``kanaal_create``, the ``JWT-Claims`` security scheme
with the scope per operation, ``Fout`` and ``ValidatieFout`` error bodies). Clients generated
from, or driven by, that document (gemma-zds-client looks operations up by ``operationId``)
work against the hub's. Served at ``/api/v1/schema/openapi.yaml``, ``/api/v1/openapi.yaml`` and
``/api/v1/openapi.json``; the hub's own ``/openapi.json`` lists the same operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.openapi.utils import get_openapi

from hub.config.models import SCOPES
from hub.http.problems import PROBLEM_JSON
from hub.notificaties import schemas

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

__all__ = [
    "CONSUMEREN",
    "PUBLICEREN",
    "SECURITY_SCHEME",
    "complete",
    "nrc_document",
    "responses_for",
]

PUBLICEREN, CONSUMEREN = SCOPES
API_VERSION = "1.0.0"
SECURITY_SCHEME = {"JWT-Claims": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    415: "Unsupported media type",
    503: "Service unavailable: Kafka did not acknowledge in time; send it again",
}
_ERRORS = (schemas.FieldValidationError, schemas.Fout, schemas.ValidatieFout)
_REF = "#/components/schemas/{model}"


def responses_for(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of an operation, as the Notificaties API documents them."""
    return {
        status: {
            "description": _TITLES[status],
            "content": {
                PROBLEM_JSON: {
                    "schema": {
                        "$ref": _REF.format(model="ValidatieFout" if status == 400 else "Fout")
                    }
                }
            },
        }
        for status in statuses
    }


def complete(document: dict[str, Any], paths: set[str] | None = None) -> dict[str, Any]:
    """Add what FastAPI does not write (the security scheme, the error schemas) and take out
    what it writes but the API never answers (422: a refused body is 400), in ``paths`` (all
    when None)."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEME)
    found = components.setdefault("schemas", {})
    for model in _ERRORS:
        schema = model.model_json_schema(by_alias=True, ref_template=_REF)
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    for path, operations in document.get("paths", {}).items():
        if paths is None or path in paths:
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
    return document


def nrc_document(routes: list[BaseRoute], prefix: str) -> dict[str, Any]:
    """The API's own document, of ``routes`` (relative to ``prefix``, its one server)."""
    document = get_openapi(
        title="Notificaties API",
        version=API_VERSION,
        openapi_version="3.0.3",
        description="The ZGW Notificaties API 1.0 served by Knooppunt, for many municipalities, "
        "on Apache Kafka (docs/notificaties.md).",
        routes=routes,
        servers=[{"url": prefix}],
        separate_input_output_schemas=False,
    )
    complete(document)
    for unused in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(unused, None)
    return document
