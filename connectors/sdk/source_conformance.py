"""The shared conformance suite every push source's tests run: named cases, one request template
per connector. No pytest here; a test module parametrises over ``case_names()``::

    SUITE = PushSourceConformance(spec=SPEC, valid=my_request, violation=(body, "form.id"))

    @pytest.mark.parametrize("case", SUITE.case_names())
    async def test_conformance(case: str) -> None:
        await SUITE.run(case)

The source's routes are served by a FastAPI app over HTTP (httpx's ASGI transport) with a
context whose ``publish`` records what it is given and whose ``authenticate`` takes the bearer
token ``conformance`` for tenant 0363 only. A case fails with AssertionError saying what the
source did instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from connectors.sdk.attachments import AttachmentStore, StoredAttachment
from connectors.sdk.context import NoMetrics, TenantInfo
from connectors.sdk.json_body import MAX_BODY_BYTES
from connectors.sdk.source import Caller, NewEvent, Published, SourceContext, SourceRefused
from connectors.sdk.spec import SourceSpec, covers

__all__ = ["PushSourceConformance", "SourceRequest"]

TENANT = TenantInfo(id="0363", oin="00000001002564440000", rsin="002564440")
TOKEN = "conformance"  # noqa: S105 - the suite's own test token


@dataclass(frozen=True)
class SourceRequest:
    """One HTTP request an external system sends: ``path`` on the hub, a JSON ``body``."""

    path: str
    body: Mapping[str, Any]
    method: str = "POST"


@dataclass
class _Recorded:
    published: list[NewEvent] = field(default_factory=list)


class MemoryAttachments:
    """An AttachmentStore in memory, for source tests: ``kept`` maps sha256 to the bytes."""

    def __init__(self, max_attachment_bytes: int = 1 << 20, max_submission_bytes: int = 2 << 20):
        self.max_attachment_bytes, self.max_submission_bytes = (
            max_attachment_bytes,
            max_submission_bytes,
        )
        self.kept: dict[str, bytes] = {}

    async def store(self, tenant: str, content: bytes, content_type: str) -> StoredAttachment:
        if len(content) > self.max_attachment_bytes:
            raise SourceRefused(413, "Content too large", "attachment too large", "too_large")
        digest = hashlib.sha256(content).hexdigest()
        self.kept[digest] = content
        url = f"http://source/api/v1/tenants/{tenant}/attachments/{digest}"
        return StoredAttachment(url, digest, len(content), content_type)

    async def read(self, tenant: str, url: str) -> bytes:
        digest = url.rsplit("/", 1)[-1]
        if f"/tenants/{tenant}/" not in url or digest not in self.kept:
            raise LookupError(url)
        return self.kept[digest]

    async def has(self, tenant: str, url: str) -> bool:
        try:
            await self.read(tenant, url)
        except LookupError:
            return False
        return True


def _context(
    recorded: _Recorded, config: Any, attachments: AttachmentStore | None = None
) -> SourceContext:
    def authenticate(authorization: str | None, tenant: str) -> Caller:
        if authorization != f"Bearer {TOKEN}":
            raise SourceRefused(401, "Not authenticated", "bad token", "not_authenticated")
        if tenant != TENANT.id:
            raise SourceRefused(403, "Forbidden", "not bound to this tenant", "forbidden")
        return Caller("conformance", (TENANT.id,))

    async def publish(new: NewEvent) -> Published:
        recorded.published.append(new)
        return Published(new.event_id, new.spec.type, "conformance", 0, len(recorded.published))

    def tenant(tenant_id: str) -> TenantInfo | None:
        return TENANT if tenant_id == TENANT.id else None

    return SourceContext(authenticate, publish, tenant, NoMetrics(), config, attachments)


def _dotted(loc: Any) -> str:
    text = ""
    for part in (str(p) for p in loc if p != "body"):
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


Case = Callable[["PushSourceConformance"], Awaitable[None]]


@dataclass(frozen=True)
class PushSourceConformance:
    """The suite for one push source. ``valid(n)``: the n-th distinct valid request (same n, same
    external fact); ``violation``: a body that breaks the contract, with the field it must name."""

    spec: SourceSpec
    valid: Callable[[int], SourceRequest]
    violation: tuple[Mapping[str, Any], str]
    attachments: AttachmentStore | None = None

    def case_names(self) -> list[str]:
        return list(_CASES)

    async def run(self, case: str) -> None:
        await _CASES[case](self)

    def client(self, recorded: _Recorded) -> httpx.AsyncClient:
        assert self.spec.push is not None, f"{self.spec.name} is not a push source"
        config = self.spec.config.model_validate(dict(self.spec.example))
        app = FastAPI()

        @app.exception_handler(SourceRefused)
        async def _refused(_request: Request, exc: SourceRefused) -> JSONResponse:
            body = {
                "status": exc.status,
                "title": exc.title,
                "detail": exc.detail,
                "code": exc.code,
                "invalidParams": exc.invalid_params,
            }
            return JSONResponse(body, exc.status, media_type="application/problem+json")

        @app.exception_handler(RequestValidationError)
        async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
            # As the hub answers (hub.http.problems.validation_problem): 400, each field named.
            params = [
                {
                    "name": _dotted(error["loc"]),
                    "code": str(error["type"]),
                    "reason": str(error["msg"]).removeprefix("Value error, "),
                }
                for error in exc.errors()
            ]
            body = {"status": 400, "invalidParams": params}
            return JSONResponse(body, 400, media_type="application/problem+json")

        context = _context(recorded, config, self.attachments)
        app.include_router(self.spec.push(config).router(context))
        transport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url="http://source")

    async def send(
        self, recorded: _Recorded, request: SourceRequest, **headers: str
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {TOKEN}", **headers}
        async with self.client(recorded) as client:
            return await client.request(
                request.method, request.path, json=dict(request.body), headers=sent
            )


async def happy_path_publishes_one_event(suite: PushSourceConformance) -> None:
    """A valid request is answered 2xx after exactly one event of a type the spec emits."""
    recorded = _Recorded()
    answer = await suite.send(recorded, suite.valid(1))
    assert 200 <= answer.status_code < 300, f"answered {answer.status_code}: {answer.text}"
    assert len(recorded.published) == 1, f"published {len(recorded.published)} events"
    new = recorded.published[0]
    assert new.tenant == TENANT.id
    assert any(covers(p, new.spec.type) for p in suite.spec.emits), f"emits {new.spec.type}?"


async def a_resend_is_the_same_event(suite: PushSourceConformance) -> None:
    """The same request twice gives the same event id (downstream sees one event); another
    request gives another id."""
    recorded = _Recorded()
    for request in (suite.valid(1), suite.valid(1), suite.valid(2)):
        answer = await suite.send(recorded, request)
        assert 200 <= answer.status_code < 300, answer.text
    first, again, other = (new.event_id for new in recorded.published)
    assert first == again, "a resend got a new event id"
    assert first != other, "two submissions share an event id"


async def a_contract_violation_names_the_field(suite: PushSourceConformance) -> None:
    body, field_name = suite.violation
    recorded = _Recorded()
    answer = await suite.send(recorded, SourceRequest(suite.valid(1).path, body))
    assert answer.status_code == 400, f"answered {answer.status_code}"
    names = [param["name"] for param in answer.json().get("invalidParams") or []]
    assert field_name in names, f"invalidParams named {names}, not {field_name}"
    assert recorded.published == [], "published an invalid event"


async def json_outside_i_json_is_refused(suite: PushSourceConformance) -> None:
    """``NaN``, a lone surrogate or an integer beyond 2**53 never reaches Kafka (RFC 7493)."""
    path = suite.valid(1).path
    for raw in (b'{"a": NaN}', b'{"a": "\\ud83d"}', b'{"a": 9007199254740993}', b"{"):
        recorded = _Recorded()
        async with suite.client(recorded) as client:
            answer = await client.post(
                path,
                content=raw,
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
        assert answer.status_code == 400, f"{raw!r} answered {answer.status_code}"
        assert recorded.published == [], f"{raw!r} was published"


async def a_body_not_sent_as_json_is_415(suite: PushSourceConformance) -> None:
    recorded = _Recorded()
    async with suite.client(recorded) as client:
        answer = await client.post(
            suite.valid(1).path,
            content=b"{}",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"},
        )
    assert answer.status_code == 415, f"answered {answer.status_code}"
    assert recorded.published == []


async def a_caller_without_a_valid_token_is_refused(suite: PushSourceConformance) -> None:
    recorded = _Recorded()
    answer = await suite.send(recorded, suite.valid(1), Authorization="Bearer wrong")
    assert answer.status_code == 401, f"answered {answer.status_code}"
    assert recorded.published == []


async def a_bad_token_is_refused_before_the_body_is_read(suite: PushSourceConformance) -> None:
    """401 comes first: a caller without a valid token learns nothing about the body's rules."""
    recorded = _Recorded()
    async with suite.client(recorded) as client:
        answer = await client.post(
            suite.valid(1).path,
            content=b"{ not json",
            headers={"Authorization": "Bearer wrong", "Content-Type": "text/plain"},
        )
    assert answer.status_code == 401, f"answered {answer.status_code}"


async def a_body_over_the_limit_is_413(suite: PushSourceConformance) -> None:
    """A body over MAX_BODY_BYTES is refused before it is read, and nothing is published."""
    recorded = _Recorded()
    big = b'{"x": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'
    async with suite.client(recorded) as client:
        answer = await client.post(
            suite.valid(1).path,
            content=big,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
    assert answer.status_code == 413, f"answered {answer.status_code}"
    assert recorded.published == []


_CASES: dict[str, Case] = {
    case.__name__: case
    for case in (
        a_bad_token_is_refused_before_the_body_is_read,
        a_body_over_the_limit_is_413,
        happy_path_publishes_one_event,
        a_resend_is_the_same_event,
        a_contract_violation_names_the_field,
        json_outside_i_json_is_refused,
        a_body_not_sent_as_json_is_415,
        a_caller_without_a_valid_token_is_refused,
    )
}
