"""RFC 9457 problem details (``application/problem+json``), ZGW-flavoured with ``invalidParams``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError

__all__ = ["ProblemError", "problem_response", "validation_problem"]

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """Raised in an endpoint to answer with a problem document; ``invalid_params`` (ZGW: each
    with ``name``, ``code`` and ``reason``) for a 400 that names the fields refused."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        code: str,
        invalid_params: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code
        self.invalid_params = invalid_params

    @classmethod
    def invalid(cls, name: str, code: str, reason: str) -> ProblemError:
        """A 400 naming one field, in the ZGW error format."""
        return cls(
            400,
            "Invalid input",
            f"1 invalid field(s): {name}",
            "invalid",
            [{"name": name, "code": code, "reason": reason}],
        )


def problem_response(
    status: int,
    title: str,
    detail: str,
    code: str,
    instance: str | None = None,
    invalid_params: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:knooppunt:problem:{code}",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if invalid_params is not None:
        body["invalidParams"] = invalid_params
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    """400 naming every invalid field (its dotted path), never echoing the submitted value."""
    params = [
        {
            "name": _field_name(tuple(error["loc"])),
            "code": str(error["type"]),
            "reason": str(error["msg"]).removeprefix("Value error, "),
        }
        for error in exc.errors()
    ]
    names = ", ".join(p["name"] for p in params)
    return problem_response(
        400,
        "Invalid submission",
        f"{len(params)} invalid field(s): {names}",
        "invalid",
        instance=request.url.path,
        invalid_params=params,
    )
