"""JSON request bodies read as I-JSON (RFC 7493) before any endpoint sees them.

FastAPI would parse a body with Python's ``json`` module, which takes ``NaN``, integers of any
size and lone surrogates, and then answer 500 or store what no back office reads back the same.
``IJsonRoute`` reads the raw body first (``contracts.ijson``): anything outside I-JSON is refused
with 400 naming the field, a body that does not say it is JSON with 415 (both as ``SourceRefused``,
which the hub answers as problem+json); only then does FastAPI validate it against the endpoint's
model, using the values the I-JSON reading produced (the body is parsed once), and calls the
endpoint directly where its signature allows (``connectors.sdk.direct_call``). A push source
gives its ``APIRouter`` ``route_class=IJsonRoute``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi.routing import APIRoute

from connectors.sdk.direct_call import direct_call
from connectors.sdk.source import SourceRefused
from contracts.errors import ContractError
from contracts.ijson import parse_ijson

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from typing import Any

    from fastapi import Request, Response

__all__ = ["MAX_BODY_BYTES", "IJsonRoute", "ijson_route", "is_json_media_type"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# What one contract record may hold: Kafka's default message.max.bytes (1,048,588) less room for
# the CloudEvents headers. A larger body is refused before it is read (RFC 9110 §15.5.14: 413).
MAX_BODY_BYTES = 1_000_000
Before = Callable[["Request"], object]


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or any ``+json`` suffix (RFC 6839), parameters ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


BY_REFERENCE = "send attachments by reference (a URL)"


def _too_large(limit: int, hint: str) -> SourceRefused:
    return SourceRefused(
        413,
        "Content too large",
        f"the body may be at most {limit} bytes; {hint}",
        "content_too_large",
    )


async def _read_body(request: Request, limit: int, hint: str = BY_REFERENCE) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (Content-Length first); the
    refusal ends with ``hint``, what the client can do about it."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, hint)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, hint)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body
    return body


class IJsonRoute(APIRoute):
    """An APIRoute whose JSON body must be I-JSON; see the module docstring.

    In order: ``before(request)`` (authentication: a caller without a valid token learns nothing
    about the body rules), then 413 for a body over ``max_body_bytes``, 415 for a body not sent
    as JSON, 400 for a body outside I-JSON. ``ijson_route`` makes one with a ``before``.
    """

    before: Before | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    too_large_hint: str = BY_REFERENCE

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        before, limit = type(self).before, type(self).max_body_bytes
        hint = type(self).too_large_hint
        direct = direct_call(self)  # None: FastAPI resolves the endpoint's parameters

        async def checked(request: Request) -> Response:
            if request.method in _BODY_METHODS:
                if before is not None:
                    before(request)
                content_type = request.headers.get("content-type", "")
                if not is_json_media_type(content_type):
                    raise SourceRefused(
                        415,
                        "Unsupported media type",
                        f"send the body as application/json, not {content_type[:80]!r}",
                        "unsupported_media_type",
                    )
                try:
                    parsed = parse_ijson(await _read_body(request, limit, hint), root="body")
                except ContractError as exc:
                    field = exc.field or "body"
                    reason = exc.reason
                    raise SourceRefused(
                        400,
                        "Invalid JSON",
                        f"the body is not I-JSON (RFC 7493) at {field}",
                        "invalid_json",
                        [{"name": field, "code": "invalid_json", "reason": reason}],
                    ) from exc
                if direct is not None:
                    return await direct(request, parsed)
                # The request's parsed JSON: FastAPI validates these values instead of parsing
                # the body a second time (json.loads would give the same).
                request._json = parsed
            return await handle(request)

        return checked


def ijson_route(
    before: Before | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    too_large_hint: str = BY_REFERENCE,
) -> type[IJsonRoute]:
    """An IJsonRoute class that calls ``before(request)`` first (it may raise SourceRefused);
    a body over ``max_body_bytes`` is 413 ending with ``too_large_hint``."""
    return type(
        "IJsonRouteWith",
        (IJsonRoute,),
        {
            "before": staticmethod(before) if before else None,
            "max_body_bytes": max_body_bytes,
            "too_large_hint": too_large_hint,
        },
    )
