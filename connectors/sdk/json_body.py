"""JSON request bodies read as I-JSON (RFC 7493) before any endpoint sees them.

FastAPI would parse a body with Python's ``json`` module, which takes ``NaN``, integers of any
size and lone surrogates, and then answer 500 or store what no back office reads back the same.
``IJsonRoute`` reads the raw body first (``contracts.ijson``): anything outside I-JSON is refused
with 400 naming the field, a body that does not say it is JSON with 415 (both as ``SourceRefused``,
which the hub answers as problem+json); only then does FastAPI validate it against the endpoint's
model. A push source gives its ``APIRouter`` ``route_class=IJsonRoute``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.routing import APIRoute

from connectors.sdk.source import SourceRefused
from contracts.errors import ContractError
from contracts.ijson import parse_ijson

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

    from fastapi import Request, Response

__all__ = ["IJsonRoute", "is_json_media_type"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or any ``+json`` suffix (RFC 6839), parameters ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class IJsonRoute(APIRoute):
    """An APIRoute whose JSON body must be I-JSON; see the module docstring."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if request.method in _BODY_METHODS:
                content_type = request.headers.get("content-type", "")
                if not is_json_media_type(content_type):
                    raise SourceRefused(
                        415,
                        "Unsupported media type",
                        f"send the body as application/json, not {content_type[:80]!r}",
                        "unsupported_media_type",
                    )
                try:
                    parse_ijson(await request.body(), root="body")
                except ContractError as exc:
                    field = exc.field or "body"
                    reason = str(exc).removeprefix(f"{field}: ")
                    raise SourceRefused(
                        400,
                        "Invalid JSON",
                        f"the body is not I-JSON (RFC 7493) at {field}",
                        "invalid_json",
                        [{"name": field, "code": "invalid_json", "reason": reason}],
                    ) from exc
            return await handle(request)

        return checked
