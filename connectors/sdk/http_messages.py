"""What the SDK's HTTP client sends and gets back, the errors it raises, and the transport seam.

- ``HttpRequest``: method, absolute URL, headers, body bytes. Auth adds its header to it.
- ``HttpResponse``: status, headers (case-insensitive), the whole body as bytes, the request URL.
- ``HttpError`` and its subclasses: the request got no answer. They are drawn once, here, and the
  transport maps its library's exceptions into them at the boundary, so a connector catches one
  tree (``connectors.sdk.http.failure_for_exception`` turns any of them into ``Retryable``)::

      HttpError
        HttpTimeoutError(phase, seconds)   phase: "connect" (a connection, pool wait included),
                                      "read" (the answer), "request" (the whole request)
        HttpConnectError              refused, unreachable, DNS
          HttpTlsError                TLS handshake or certificate
        HttpProtocolError             not an HTTP answer
        HttpNetworkError              the connection broke mid-request
        TokenRefusedError(status)     an OAuth2 token endpoint refused (connectors.sdk.http_auth)

- ``HttpTransport``: what carries one request (``send``); the default is aiohttp
  (connectors.sdk.http_transport). ``MockTransport(handler)`` is the test seam: every request
  goes to ``handler`` instead of the network, as ``httpx.MockTransport`` does for httpx.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

__all__ = [
    "HttpConnectError",
    "HttpError",
    "HttpNetworkError",
    "HttpProtocolError",
    "HttpRequest",
    "HttpResponse",
    "HttpTimeoutError",
    "HttpTlsError",
    "HttpTransport",
    "MockTransport",
    "TimeoutPhase",
]

TimeoutPhase = Literal["connect", "read", "request"]


@dataclass(slots=True)
class HttpRequest:
    """One request as it goes out. ``headers`` is filled by the client (its defaults, the call's,
    then auth's); ``body`` is sent as is."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@functools.lru_cache(maxsize=1024)
def _origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` (a sink asks this of one URL again and again)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _headers(given: Mapping[str, str] | None) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(given or {}))


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An answer, read to the end. ``headers`` is case-insensitive; ``url`` is the request's."""

    status: int
    headers: Mapping[str, str] = field(default_factory=lambda: _headers(None))
    body: bytes = b""
    url: str = ""

    @classmethod
    def of(
        cls,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        json: Any = None,
        url: str = "",
    ) -> HttpResponse:
        """An answer made by hand (a MockTransport handler): ``json`` is serialised into the body
        with Content-Type application/json."""
        merged = dict(headers or {})
        if json is not None:
            body = orjson.dumps(json)
            merged.setdefault("Content-Type", "application/json")
        return cls(status, _headers(merged), body, url)

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return orjson.loads(self.body)

    def location(self) -> str | None:
        """The Location header made absolute against the request URL; None without one."""
        value = self.headers.get("location")
        if not value:
            return None
        if "/." in value or "\\" in value:  # dot segments to remove: the general rule
            return urljoin(self.url, value)
        if value.startswith(("https://", "http://")):
            return value
        if value.startswith("/") and not value.startswith("//"):  # the usual answer: a path
            return _origin(self.url) + value
        return urljoin(self.url, value)


class HttpError(Exception):
    """The request got no HTTP answer. Always worth another try later."""


class HttpTimeoutError(HttpError):
    """A timeout ran out. ``phase`` says which; ``seconds`` is its limit."""

    def __init__(self, phase: TimeoutPhase, seconds: float) -> None:
        super().__init__(f"timeout after {seconds:g} s ({phase})")
        self.phase: TimeoutPhase = phase
        self.seconds = seconds


class HttpConnectError(HttpError):
    """No connection: refused, host unreachable, name not resolved."""


class HttpTlsError(HttpConnectError):
    """The TLS handshake failed: a certificate not trusted or not accepted."""


class HttpProtocolError(HttpError):
    """The other side did not speak HTTP/1.1 as it should."""


class HttpNetworkError(HttpError):
    """The connection broke while the request was under way."""


class HttpTransport(Protocol):
    """Carries one request to the back office and reads the whole answer.

    ``timeout_s`` bounds connecting and each wait for the answer; raises an ``HttpError``.
    """

    async def send(self, request: HttpRequest, timeout_s: float) -> HttpResponse: ...

    async def aclose(self) -> None: ...


class MockTransport:
    """A transport for tests: each request goes to ``handler`` (plain or async), which returns
    the answer or raises an ``HttpError``. The answer's ``url`` is the request's."""

    def __init__(
        self, handler: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self._handler = handler

    async def send(self, request: HttpRequest, timeout_s: float) -> HttpResponse:
        answer = self._handler(request)
        if not isinstance(answer, HttpResponse):
            answer = await answer
        return HttpResponse(answer.status, answer.headers, answer.body, request.url)

    async def aclose(self) -> None:
        return None
