"""The default ``HttpTransport``: one ``aiohttp.ClientSession`` per client, and the one place
where aiohttp's exceptions become the SDK's (connectors.sdk.http_messages).

Why aiohttp: against a back office answering in 1 ms, httpx's AsyncClient spent about 2 ms of
CPU per request, aiohttp's client about 0.13 ms (``make bench``, scenario ``http``), and the
delivery engine shares the event loop with every sink. aiohttp sets TCP_NODELAY on each
connection, keeps connections alive (15 s idle), follows no redirect here, keeps no cookies and
reads no proxy settings from the environment.

Timeouts: ``timeout_s`` bounds getting a connection (a new one or a free one from the pool:
phase ``connect``) and each wait for bytes of the answer (phase ``read``); the request as a whole
is bounded by three times ``timeout_s`` (phase ``request``), so a back office that stops taking
in the body cannot hold a delivery for ever.
"""

from __future__ import annotations

import io
import ssl
from typing import TYPE_CHECKING

import aiohttp

from connectors.sdk.http_messages import (
    HttpConnectError,
    HttpError,
    HttpNetworkError,
    HttpProtocolError,
    HttpResponse,
    HttpTimeoutError,
    HttpTlsError,
)

if TYPE_CHECKING:
    from connectors.sdk.http_messages import HttpRequest

__all__ = ["CONNECTIONS_PER_HOST", "AiohttpTransport", "ConnectionPool", "http_error_of"]

WHOLE_REQUEST_FACTOR = 3  # the whole request may take this many times timeout_s
# Connections one pool opens to one host (scheme, host, port, TLS context) at most; more
# requests wait for a free one (that wait counts as the "connect" phase).
CONNECTIONS_PER_HOST = 100
# Bodies larger than aiohttp's TOO_LARGE_BYTES_BODY (1 MiB) go as a stream, written in chunks.
_STREAMED_FROM = 2**20


def http_error_of(exc: aiohttp.ClientError | TimeoutError, timeout_s: float) -> HttpError:
    """The SDK's error for what aiohttp raised (timeouts before the classes they extend)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return HttpTimeoutError("connect", timeout_s)
    if isinstance(exc, aiohttp.ServerTimeoutError):  # SocketTimeoutError: sock_read ran out
        return HttpTimeoutError("read", timeout_s)
    if isinstance(exc, TimeoutError):  # ClientTimeout.total
        return HttpTimeoutError("request", timeout_s * WHOLE_REQUEST_FACTOR)
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return HttpTlsError(str(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        return HttpConnectError(str(exc))
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.InvalidURL):
        return HttpProtocolError(str(exc))
    return HttpNetworkError(str(exc))


def _new_session(per_host: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=per_host),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
    )


class ConnectionPool:
    """One aiohttp session (its connection pool) shared by many clients: the hub's push
    destinations. Many municipalities' back offices are one supplier's host; with a pool per
    destination, 340 tenants opened thousands of connections to it at once (and read timeouts
    followed), with this one at most ``per_host`` per host. Connections are only reused for the
    same TLS context (each request names its own), so mutual TLS clients never share one. The
    owner closes it (``aclose``) after every client that uses it."""

    def __init__(self, per_host: int = CONNECTIONS_PER_HOST) -> None:
        self.per_host = per_host
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The shared session, made in the running event loop on first use."""
        if self._session is None or self._session.closed:
            self._session = _new_session(self.per_host)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class AiohttpTransport:
    """Sends over one aiohttp session, made on the first request (a session belongs to the
    running event loop) and closed by ``aclose``; or over ``pool``'s, which its owner closes.
    ``ssl_context`` verifies the server and, for mutual TLS, holds the client certificate."""

    def __init__(self, ssl_context: ssl.SSLContext, pool: ConnectionPool | None = None) -> None:
        self._ssl, self._pool = ssl_context, pool
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _session_now(self) -> aiohttp.ClientSession:
        if self._pool is not None:
            return self._pool.session()
        if self._session is None or self._session.closed:
            self._session = _new_session(CONNECTIONS_PER_HOST)
        return self._session

    def _timeout(self, timeout_s: float) -> aiohttp.ClientTimeout:
        found = self._timeouts.get(timeout_s)
        if found is None:
            found = self._timeouts[timeout_s] = aiohttp.ClientTimeout(
                total=timeout_s * WHOLE_REQUEST_FACTOR,
                connect=timeout_s,
                sock_connect=timeout_s,
                sock_read=timeout_s,
            )
        return found

    async def send(self, request: HttpRequest, timeout_s: float) -> HttpResponse:
        session = self._session_now()
        body = request.body
        data = io.BytesIO(body) if body is not None and len(body) > _STREAMED_FROM else body
        try:
            async with session.request(
                request.method,
                request.url,
                data=data,
                headers=request.headers,
                allow_redirects=False,
                timeout=self._timeout(timeout_s),
                ssl=self._ssl,
            ) as answer:
                content = await answer.read()
                return HttpResponse(answer.status, answer.headers, content, request.url)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise http_error_of(exc, timeout_s) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
