"""Calling a push source's endpoint without FastAPI's dependency machinery, where that changes
nothing but the cost.

FastAPI resolves an endpoint's parameters anew for every request (``solve_dependencies``): on
the e-forms intake that, and the request handler around it, was a fifth of the CPU of a
submission (docs/design.md, "Serving the intake"). ``direct_call`` looks at an ``APIRoute``
once, when it is built. When its endpoint takes nothing but

- path parameters typed ``str``,
- header parameters typed ``str | None`` with default ``None``,
- one JSON body parameter (not embedded),
- optionally the ``Request``,

and is declared to return a ``Response``, it gets a call that passes the path parameters and
headers as they came, validates the already parsed body with FastAPI's own field (the errors
are FastAPI's, raised as its ``RequestValidationError``, so they are answered as before) and
returns what the endpoint returns. Anything else (a dependency, a query parameter, a typed
header, security) gets None: FastAPI's handler stays. The OpenAPI document is FastAPI's either
way.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from fastapi import params
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.routing import APIRoute

__all__ = ["DirectCall", "direct_call"]

# (request, the body already parsed) -> the endpoint's response
DirectCall = Callable[["Request", Any], Awaitable[Response]]


def _is_optional_str(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and set(get_args(annotation)) == {
        str,
        type(None),
    }


def _plain_header(field: Any) -> str | None:
    """The header a ``str | None = None`` header parameter reads (as FastAPI names it: its
    alias, else its name with ``_`` as ``-``), else None."""
    info = field.field_info
    if not isinstance(info, params.Header) or info.validation_alias is not None:
        return None
    if not _is_optional_str(info.annotation) or info.is_required() or info.default is not None:
        return None
    name = str(info.alias or field.name)
    return name.replace("_", "-") if info.convert_underscores and name == field.name else name


def direct_call(route: APIRoute) -> DirectCall | None:
    """The direct call of ``route``'s endpoint, or None when FastAPI has to resolve it."""
    dependant, body = route.dependant, route.body_field
    if (
        dependant.dependencies
        or dependant.query_params
        or dependant.cookie_params
        or len(dependant.body_params) != 1
        or body is None
        or isinstance(body.field_info, params.Form)
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    returns = get_typed_return_annotation(route.endpoint)
    if not (isinstance(returns, type) and issubclass(returns, Response)):
        return None
    if any(p.field_info.annotation is not str or p.alias != p.name for p in dependant.path_params):
        return None
    headers = [(field.name, _plain_header(field)) for field in dependant.header_params]
    if any(name is None for _, name in headers):
        return None
    path_names = [p.name for p in dependant.path_params]
    body_name, request_name = dependant.body_params[0].name, dependant.request_param_name
    endpoint: Callable[..., Awaitable[Response]] = route.endpoint

    async def call(request: Request, parsed: Any) -> Response:
        value, errors = body.validate(parsed, {}, loc=("body",))
        if errors:
            raise RequestValidationError(errors, body=parsed)
        arguments: dict[str, Any] = {name: request.path_params[name] for name in path_names}
        for name, header in headers:
            arguments[name] = request.headers.get(header)  # type: ignore[arg-type]
        arguments[body_name] = value
        if request_name:
            arguments[request_name] = request
        return await endpoint(**arguments)

    return call
