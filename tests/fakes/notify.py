"""A fake GOV.UK Notify API (as NotifyNL runs it): a real HTTP server on loopback.

Built from the published API documentation (docs.notifications.service.gov.uk: "Authorisation
header", "Send an email", "Send a text message", "Get the status of multiple messages", "API
rate limits", the error tables):

- every request needs ``Authorization: Bearer <JWT>``: HS256, ``iss`` the service id, signed
  with the API key's secret, ``iat`` within 30 seconds of the fake's clock; otherwise 401 (no
  token) or 403 ``AuthError``;
- ``POST /v2/notifications/email`` (``email_address``, ``template_id``, optional
  ``personalisation``, ``reference``, ``email_reply_to_id``) and ``POST
  /v2/notifications/sms`` (``phone_number``, ``template_id``, optional ``personalisation``,
  ``reference``, ``sms_sender_id``) are validated as the API does: required fields, UUIDs,
  the address or number (NotifyNL: Dutch numbers by default), the template's type and its
  placeholders, the reply-to and sender ids. A refusal is ``{"status_code": 400, "errors":
  [{"error": "ValidationError" | "BadRequestError", "message": ...}]}``. Unknown fields are
  refused too (stricter than Notify, so a sink's typo shows);
- ``GET /v2/notifications?reference=&template_type=`` lists what was sent, newest first;
- ``rate_limit`` posts per 60 seconds (rolling), beyond it 429 ``RateLimitError``;
- ``fail_next`` scripts answers (429 with Retry-After, 500...), ``slow_after_sending_s`` makes
  the answer to a send come late while the message was made (an answer lost after Notify took
  it).

Notify keeps no idempotency key: the same request twice makes two notifications, and
``effects()`` counts every one. Every request is recorded (``received``).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import serving

__all__ = [
    "API_KEY",
    "API_KEY_ENV",
    "EMAIL_TEMPLATE",
    "REPLY_TO_ID",
    "SECRET",
    "SENDER_ID",
    "SERVICE_ID",
    "SMS_TEMPLATE",
    "FakeNotify",
    "NotifyConformanceFake",
    "Received",
    "Template",
    "running_notify",
]

SERVICE_ID = "5c1f0a7e-3b2d-4e8f-9a6b-0c1d2e3f4a5b"
SECRET = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"
API_KEY = f"knooppunt_test-{SERVICE_ID}-{SECRET}"  # a key name may hold dashes and underscores
API_KEY_ENV = "NOTIFYNL_API_KEY"
EMAIL_TEMPLATE = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
SMS_TEMPLATE = "6f5e4d3c-2b1a-4c0d-9e8f-7a6b5c4d3e2f"
REPLY_TO_ID = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
SENDER_ID = "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b"
CLOCK_BOUND_S = 30  # Notify: "Your system clock must be accurate to within 30 seconds"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LOCAL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_LABEL = re.compile(r"^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$", re.IGNORECASE)
_TLD = re.compile(r"^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$", re.IGNORECASE)
_FIELDS = {
    "email": {"email_address", "template_id", "personalisation", "reference", "email_reply_to_id"},
    "sms": {"phone_number", "template_id", "personalisation", "reference", "sms_sender_id"},
}


@dataclass(frozen=True)
class Template:
    type: Literal["email", "sms"]
    placeholders: frozenset[str] = frozenset()


TEMPLATES = {
    EMAIL_TEMPLATE: Template("email", frozenset({"naam"})),
    SMS_TEMPLATE: Template("sms", frozenset({"referentie"})),
}


@dataclass(frozen=True)
class Received:
    """One request as it arrived: ``claims`` are the JWT's, unverified (None without one)."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    claims: dict[str, Any] | None
    status: int
    error: str | None  # the first error's name of a refusal


def _errors(status: int, *errors: tuple[str, str]) -> Response:
    body = {"status_code": status, "errors": [{"error": e, "message": m} for e, m in errors]}
    return JSONResponse(body, status)


def email_problem(address: str) -> str | None:
    """Why Notify would refuse ``address`` (notifications-utils' rules, simplified)."""
    if len(address) > 320 or address.count("@") != 1:
        return "Not a valid email address"
    local, domain = address.split("@")
    labels = domain.split(".")
    if not _LOCAL.fullmatch(local) or ".." in local or len(labels) < 2:
        return "Not a valid email address"
    if not all(_LABEL.fullmatch(label) for label in labels) or not _TLD.fullmatch(labels[-1]):
        return "Not a valid email address"
    return None


def phone_problem(number: str) -> str | None:
    """Why NotifyNL would refuse ``number``: Dutch mobile numbers (06 + 8 digits, +31 6...), or
    international ones of 8 to 15 digits after + or 00."""
    cleaned = re.sub(r"[\s().-]", "", number)
    if not re.fullmatch(r"\+?[0-9]+", cleaned):
        return "Must not contain letters or symbols"
    international = cleaned.startswith(("+", "00"))
    digits = cleaned.lstrip("+").removeprefix("00") if international else cleaned
    if international and digits.startswith("31"):
        digits, international = "0" + digits[2:], False
    if international:
        if len(digits) < 8:
            return "Not enough digits"
        return "Too many digits" if len(digits) > 15 else None
    if len(digits) < 10:
        return "Not enough digits"
    if len(digits) > 10:
        return "Too many digits"
    return None if digits.startswith("06") else "Not a Dutch mobile number"


@dataclass
class FakeNotify:
    port: int
    service_id: str = SERVICE_ID
    secret: str = SECRET
    templates: dict[str, Template] = field(default_factory=lambda: dict(TEMPLATES))
    reply_to_ids: frozenset[str] = frozenset({REPLY_TO_ID})
    sender_ids: frozenset[str] = frozenset({SENDER_ID})
    rate_limit: int | None = None  # posts per 60 s; None: unlimited
    slow_after_sending_s: float = 0.0
    notifications: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    _script: dict[str, deque[tuple[int, str, str | None]]] = field(
        default_factory=lambda: {"send": deque(), "list": deque()}
    )
    _posted_at: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def sent(self) -> list[dict[str, Any]]:
        """The notifications made, oldest first."""
        with self._lock:
            return list(self.notifications)

    def fail_next(
        self,
        status: int,
        error: str = "Exception",
        retry_after: str | None = None,
        on: Literal["send", "list"] = "send",
    ) -> None:
        """Answer the next send (POST) or list (GET), once authenticated, with ``status`` and
        an error named ``error``, with a Retry-After header when given."""
        with self._lock:
            self._script[on].append((status, error, retry_after))

    def conformance(self) -> NotifyConformanceFake:
        return NotifyConformanceFake(self)

    def _record(self, request: Request, body: Any, claims: Any, response: Response) -> Response:
        error = None
        if response.status_code >= 400:
            error = orjson.loads(bytes(response.body))["errors"][0]["error"]
        query: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            query.setdefault(name, []).append(value)
        with self._lock:
            self.requests.append(
                Received(
                    request.method,
                    request.url.path,
                    query,
                    body,
                    claims,
                    response.status_code,
                    error,
                )
            )
        return response

    def _authenticate(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        """The token's claims (unverified, for the record) and the refusal, if any."""
        header = request.headers.get("authorization")
        if not header:
            return None, _errors(
                401, ("AuthError", "Unauthorized: authentication token must be provided")
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None, _errors(
                401, ("AuthError", "Unauthorized: authentication bearer scheme must be used")
            )
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None, _errors(403, ("AuthError", "Invalid token: not a JWT"))
        if algorithm != "HS256":
            return claims, _errors(403, ("AuthError", "Invalid token: algorithm is not HS256"))
        if claims.get("iss") != self.service_id:
            return claims, _errors(403, ("AuthError", "Invalid token: service not found"))
        try:
            jwt.decode(token, self.secret, algorithms=["HS256"], options={"verify_iat": False})
        except jwt.PyJWTError:
            return claims, _errors(403, ("AuthError", "Invalid token: API key not found"))
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(time.time() - iat) > CLOCK_BOUND_S:
            return claims, _errors(
                403,
                ("AuthError", "Error: Your system clock must be accurate to within 30 seconds"),
            )
        return claims, None

    def _scripted(self, on: str) -> Response | None:
        with self._lock:
            if not self._script[on]:
                return None
            status, error, retry_after = self._script[on].popleft()
        response = _errors(status, (error, f"scripted {status}"))
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
        return response

    def _over_rate_limit(self) -> Response | None:
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            while self._posted_at and self._posted_at[0] <= now - 60:
                self._posted_at.popleft()
            if len(self._posted_at) >= self.rate_limit:
                message = (
                    f"Exceeded rate limit for key type LIVE of {self.rate_limit} requests "
                    "per 60 seconds"
                )
                return _errors(429, ("RateLimitError", message))
            self._posted_at.append(now)
        return None

    def _invalid(self, kind: Literal["email", "sms"], body: Any) -> list[tuple[str, str]]:
        """Schema errors, as Notify's ValidationError messages."""
        if not isinstance(body, dict):
            return [("ValidationError", "Invalid JSON supplied in POST data")]
        problems = [
            ("ValidationError", f"Additional properties are not allowed ({name} was unexpected)")
            for name in sorted(set(body) - _FIELDS[kind])
        ]
        recipient = "email_address" if kind == "email" else "phone_number"
        for required in (recipient, "template_id"):
            if required not in body:
                problems.append(("ValidationError", f"{required} is a required property"))
        for name in ("template_id", "email_reply_to_id", "sms_sender_id"):
            value = body.get(name)
            if name in body and not (isinstance(value, str) and _UUID.fullmatch(value)):
                problems.append(("ValidationError", f"{name} is not a valid UUID"))
        value = body.get(recipient)
        if recipient in body:
            check = email_problem if kind == "email" else phone_problem
            problem = check(value) if isinstance(value, str) else "is not of type string"
            if problem:
                problems.append(("ValidationError", f"{recipient} {problem}"))
        if "personalisation" in body and not isinstance(body["personalisation"], dict):
            problems.append(("ValidationError", "personalisation is not of type object"))
        reference = body.get("reference")
        if "reference" in body and not (isinstance(reference, str) and len(reference) <= 1000):
            problems.append(("ValidationError", "reference is not a string of at most 1000"))
        return problems

    def _refused(self, kind: Literal["email", "sms"], body: dict[str, Any]) -> str | None:
        """Why the service cannot send it (BadRequestError), after the schema passed."""
        template = self.templates.get(body["template_id"].lower())
        if template is None:
            return "Template not found"
        if template.type != kind:
            return f"{template.type} template is not suitable for {kind} notification"
        missing = sorted(template.placeholders - set(body.get("personalisation") or {}))
        if missing:
            return f"Missing personalisation: {', '.join(missing)}"
        unknown = f"does not exist in database for service id {self.service_id}"
        reply_to = body.get("email_reply_to_id")
        if reply_to is not None and reply_to.lower() not in self.reply_to_ids:
            return f"email_reply_to_id {reply_to} {unknown}"
        sender = body.get("sms_sender_id")
        if sender is not None and sender.lower() not in self.sender_ids:
            return f"sms_sender_id {sender} {unknown}"
        return None

    def _make(self, kind: Literal["email", "sms"], body: dict[str, Any]) -> dict[str, Any]:
        notification = {
            "id": str(uuid.uuid4()),
            "reference": body.get("reference"),
            "email_address": body.get("email_address"),
            "phone_number": body.get("phone_number"),
            "type": kind,
            "status": "created",
            "template": {
                "id": body["template_id"],
                "version": 1,
                "uri": f"{self.url}/v2/template/{body['template_id']}",
            },
            "personalisation": dict(body.get("personalisation") or {}),
            "email_reply_to_id": body.get("email_reply_to_id"),
            "sms_sender_id": body.get("sms_sender_id"),
            "created_at": datetime.now(UTC).isoformat(),
        }
        with self._lock:
            self.notifications.append(notification)
        return notification

    async def _post(self, request: Request) -> Response:
        kind: Literal["email", "sms"] = "email" if request.url.path.endswith("email") else "sms"
        raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        claims, refusal = self._authenticate(request)
        response = refusal or self._scripted("send") or self._over_rate_limit()
        if response is None:
            problems = self._invalid(kind, body)
            refused = None if problems else self._refused(kind, body)
            if problems:
                response = _errors(400, *problems)
            elif refused:
                response = _errors(400, ("BadRequestError", refused))
        if response is None:
            made = self._make(kind, body)
            content = {"subject": "Onderwerp", "body": "Tekst", "from_email": "x@notifynl.nl"}
            answer = {
                "id": made["id"],
                "reference": made["reference"],
                "content": content
                if kind == "email"
                else {"body": "Tekst", "from_number": "Gemeente"},
                "uri": f"{self.url}/v2/notifications/{made['id']}",
                "template": made["template"],
            }
            response = JSONResponse(answer, 201)
        self._record(request, body, claims, response)
        if response.status_code == 201 and self.slow_after_sending_s:
            await asyncio.sleep(self.slow_after_sending_s)
        return response

    async def _list(self, request: Request) -> Response:
        claims, refusal = self._authenticate(request)
        response = refusal or self._scripted("list")
        if response is None:
            allowed = {"reference", "status", "template_type", "older_than"}
            unknown = sorted(set(request.query_params) - allowed)
            if unknown:
                message = f"Additional properties are not allowed ({unknown[0]} was unexpected)"
                response = _errors(400, ("ValidationError", message))
        if response is None:
            reference = request.query_params.get("reference")
            types = request.query_params.getlist("template_type")
            found = [
                {k: v for k, v in n.items() if k not in ("email_reply_to_id", "sms_sender_id")}
                for n in reversed(self.sent())
                if (reference is None or n["reference"] == reference)
                and (not types or n["type"] in types)
            ]
            links = {"current": str(request.url)}
            response = JSONResponse({"notifications": found, "links": links})
        return self._record(request, None, claims, response)


@dataclass
class NotifyConformanceFake:
    """connectors.sdk.conformance.ConformanceFake over a FakeNotify: a retryable failure is
    500 ``Exception``, a permanent one 400 ``BadRequestError``."""

    notify: FakeNotify

    def settings(self) -> dict[str, Any]:
        return {
            "base_url": self.notify.url,
            "api_key_env": API_KEY_ENV,
            "templates": {
                "ontvangstbevestiging-parkeervergunning": {
                    "email": EMAIL_TEMPLATE,
                    "sms": SMS_TEMPLATE,
                }
            },
            "email_reply_to_id": REPLY_TO_ID,
        }

    def fail_next(self, kind: str) -> None:
        if kind == "retryable":
            self.notify.fail_next(500, "Exception")
        else:
            self.notify.fail_next(400, "BadRequestError")

    def effects(self) -> int:
        return len(self.notify.sent())


@contextmanager
def running_notify(**settings: Any) -> Iterator[FakeNotify]:
    """A FakeNotify (``settings`` are its fields) on a free loopback port; stopped on exit."""
    fakes: list[FakeNotify] = []

    def app_for(port: int) -> Starlette:
        fakes.append(FakeNotify(port=port, **settings))
        fake = fakes[0]
        return Starlette(
            routes=[
                Route("/v2/notifications/email", fake._post, methods=["POST"]),
                Route("/v2/notifications/sms", fake._post, methods=["POST"]),
                Route("/v2/notifications", fake._list, methods=["GET"]),
            ]
        )

    with serving(app_for, "fake-notify"):
        yield fakes[0]
