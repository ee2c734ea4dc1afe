"""The HTTP client every HTTP connector uses: ``context.http.client(...)``, an ``HttpClient``.

``HttpClients.client(auth=..., tls=..., timeout_s=..., base_url=..., headers=...)`` returns a
client that authenticates each request as ``auth`` says (connectors.sdk.http_auth: secrets read
per request, an OAuth2 token fetched again once when the API answers 401), presents ``tls``'s
client certificate, and follows no redirects (a 3xx is the sink's to classify)::

    client = context.http.client(auth=config.auth, timeout_s=config.timeout_s)
    try:
        response = await client.post(url, body=orjson.dumps(doc), headers={...})
    except HttpError as exc:            # no answer: timeout, refused, broken connection
        return failure_for_exception(exc)
    failure = failure_for_status(response.status, response.headers, datetime.now(UTC))
    ...
    await client.aclose()               # in Sink.close

The answer is read whole (``response.body``, ``response.json()``, ``response.location()``).
Requests go over aiohttp (connectors.sdk.http_transport: one session per client, connections
kept alive, TCP_NODELAY, one shared TLS context). In tests the hub (or the test) passes
``transport`` (``MockTransport(handler)``) and every client uses it instead of the network; TLS
files are then not read. Tests of a connector prefer a real local server, though.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import certifi

from connectors.sdk.http_auth import NoAuth, auth_flow_for
from connectors.sdk.http_messages import HttpRequest
from connectors.sdk.http_transport import AiohttpTransport, ConnectionPool
from connectors.sdk.secrets import Secrets

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from connectors.sdk.http_auth import AuthFlow, HttpAuth, MutualTls
    from connectors.sdk.http_messages import HttpResponse, HttpTransport

__all__ = ["HttpClient", "HttpClients"]


@functools.cache
def _shared_tls() -> ssl.SSLContext:
    """One verifying TLS context (certifi's CAs) for every client without a client certificate:
    each context holds the CA store, about 0.8 MB, and a hub has a client per push destination
    (1,020 at 340 tenants)."""
    return ssl.create_default_context(cafile=certifi.where())


def _tls_context(tls: MutualTls) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    context.load_cert_chain(certfile=str(tls.cert_file), keyfile=str(tls.key_file))
    return context


class HttpClient:
    """Sends requests to one back office; made by ``HttpClients.client``. Safe to use from many
    deliveries at once. ``request`` raises an ``HttpError`` when there is no answer, and
    SecretMissingError when a secret its auth needs is not set (nothing is sent then)."""

    def __init__(
        self,
        transport: HttpTransport,
        auth: AuthFlow,
        timeout_s: float,
        base_url: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._transport, self._auth, self._timeout_s = transport, auth, timeout_s
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})

    def _url(self, url: str) -> str:
        if not self._base_url or "://" in url:
            return url
        return f"{self._base_url}/{url.lstrip('/')}"

    async def _send(self, request: HttpRequest) -> HttpResponse:
        return await self._transport.send(request, self._timeout_s)

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """``method`` on ``url`` (absolute, or relative to ``base_url``) with ``body`` as is.
        ``headers`` go over the client's own; auth's header goes over both."""
        merged = {**self._headers, **headers} if headers else dict(self._headers)
        request = HttpRequest(method, self._url(url), merged, body)
        await self._auth.authorize(request, self._send)
        response = await self._send(request)
        if response.status == 401 and await self._auth.refresh(request, self._send):
            await self._auth.authorize(request, self._send)
            response = await self._send(request)
        return response

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return await self.request("GET", url, headers=headers)

    async def options(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return await self.request("OPTIONS", url, headers=headers)

    async def post(
        self, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        return await self.request("POST", url, body=body, headers=headers)

    async def put(
        self, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        return await self.request("PUT", url, body=body, headers=headers)

    async def aclose(self) -> None:
        """Close the connections; the client is not used afterwards."""
        await self._transport.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


@dataclass(frozen=True)
class HttpClients:
    """Makes HTTP clients for one connector instance; secrets are resolved per request."""

    secrets: Secrets = field(default_factory=Secrets)
    transport: HttpTransport | None = None  # tests: every client sends through it
    pool: ConnectionPool | None = None  # the hub: one pool for every destination's client

    def client(
        self,
        *,
        auth: HttpAuth | None = None,
        tls: MutualTls | None = None,
        timeout_s: float = 10.0,
        base_url: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> HttpClient:
        """A new client with its own connections; the caller closes it (``aclose``), typically
        in ``Sink.close``. No I/O happens until the first request.

        ``timeout_s`` bounds connecting and each wait for the answer (the whole request: three
        times that). Raises OSError or ssl.SSLError when ``tls``'s files cannot be read.
        """
        transport = self.transport or AiohttpTransport(
            _tls_context(tls) if tls else _shared_tls(), self.pool
        )
        flow = auth_flow_for(auth or NoAuth(), self.secrets)
        return HttpClient(transport, flow, timeout_s, base_url, headers)
