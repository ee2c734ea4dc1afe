"""How the HTTP API answers what went wrong: RFC 9457 problem+json for every refusal.

| raised | answer |
| --- | --- |
| ``ProblemError`` (auth: 401 with ``WWW-Authenticate``, 403, 404) | its status |
| request validation (a field breaks the contract) | 400 naming every field |
| ``SourceRefused`` (a push source: 400, 401, 403, 404, 413, 415) | its status |
| ``ContractError`` (caught before anything was sent) | 400 naming the field |
| Kafka: record too large | 413, never retried |
| Kafka unavailable, no acknowledgement in time | 503 with ``Retry-After`` (never 500) |
| no such path (404), method not allowed (405, with ``Allow``) | its status |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from hub.http.problems import ProblemError, problem_response, validation_problem
from hub.http.sources import install_source_problems
from hub.observability.logs import get_logger

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

__all__ = ["RETRY_AFTER_S", "install_problem_handlers"]

log = get_logger(__name__)
RETRY_AFTER_S = 5  # a leader election or a broker restart takes seconds, not milliseconds


def install_problem_handlers(app: FastAPI, publish_timeout_s: float) -> None:
    """Every handler of the table above, on ``app``."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            exc.code,
            request.url.path,
            invalid_params=exc.invalid_params,
            headers=headers,
        )

    @app.exception_handler(MessageSizeTooLargeError)
    @app.exception_handler(RecordTooLargeError)
    async def _too_large(request: Request, exc: Exception) -> JSONResponse:
        """The event is larger than its contract topic takes: 413, never a retry."""
        return problem_response(
            413,
            "Content too large",
            f"the event is larger than Kafka takes on its topic ({exc}); send attachments by "
            "reference (a URL)",
            "content_too_large",
            request.url.path,
        )

    @app.exception_handler(KafkaError)
    @app.exception_handler(TimeoutError)
    async def _kafka_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """Kafka did not acknowledge in time (a broker down, a leader election): 503, never 500.
        Sending the same submission again is safe: it keeps its event id."""
        error = str(exc) or f"no acknowledgement within {publish_timeout_s:g} s"
        log.warning(
            "kafka_unavailable",
            path=request.url.path,
            error_class=type(exc).__name__,
            error=error,
        )
        return problem_response(
            503,
            "Kafka unavailable",
            f"Kafka did not acknowledge the event ({error}). Send it again after "
            f"{RETRY_AFTER_S} s: the same submission keeps its event id, so it counts once.",
            "kafka_unavailable",
            request.url.path,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        """Starlette's own refusals (no such path, method not allowed) in the same format."""
        titles = {404: "Not found", 405: "Method not allowed"}
        title = titles.get(exc.status_code, str(exc.detail))
        detail = (
            f"no {request.method} {request.url.path} here; see /docs"
            if exc.status_code in titles
            else str(exc.detail)
        )
        code = title.lower().replace(" ", "_")
        return problem_response(
            exc.status_code,
            title,
            detail,
            code,
            request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )

    app.add_exception_handler(RequestValidationError, validation_problem)  # type: ignore[arg-type]
    install_source_problems(app)
