"""The SDK's HTTP client against real local servers (aiohttp, on loopback): what goes out and
comes back byte for byte, redirects left alone, keep-alive, timeouts named by phase, refused
connections, OAuth2 tokens shared and refreshed, mutual TLS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import orjson
import pytest
from aiohttp import web

from connectors.sdk import (
    ConnectionPool,
    HttpClients,
    HttpConnectError,
    HttpRequest,
    HttpResponse,
    HttpTimeoutError,
    HttpTlsError,
    MockTransport,
    MutualTls,
    OAuth2ClientCredentials,
    Secrets,
)
from connectors.sdk.http import failure_for_exception
from connectors.sdk.http_auth import HeaderAuth
from tests.kafka_under_test import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(
    routes: Mapping[str, Handler], tls: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """An aiohttp server on a free loopback port answering ``routes`` (path -> handler, any
    method); yields its base URL."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_the_body_and_headers_go_out_as_given_and_the_answer_comes_back_whole() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    big = b"x" * 1_000_000

    async def echo(request: web.Request) -> web.Response:
        seen.append((request.method, dict(request.headers), await request.read()))
        return web.Response(
            status=201, body=big, headers={"Location": "/zaken/7", "X-Trace": "abc"}
        )

    body = orjson.dumps({"bsn": "999993653", "bedrag": 1.10})
    async with (
        serving({"/api/zaken": echo}) as base,
        HttpClients(Secrets({"KEY": "k1"})).client(
            auth=HeaderAuth(header="X-Api-Key", value_env="KEY"),
            base_url=f"{base}/api",
            headers={"X-Gemeente": "0363", "X-Api-Key": "overwritten by auth"},
        ) as client,
    ):
        response = await client.post("zaken", body=body, headers={"Idempotency-Key": "k"})

    ((method, headers, received),) = seen
    assert (method, received) == ("POST", body)
    assert headers["X-Gemeente"] == "0363"
    assert headers["Idempotency-Key"] == "k"
    assert headers["X-Api-Key"] == "k1"
    assert response.status == 201
    assert response.body == big
    assert response.headers["x-trace"] == response.headers["X-TRACE"] == "abc"
    assert response.location() == f"{base}/zaken/7"


async def test_json_answers_are_parsed_and_other_bodies_refused_as_value_errors() -> None:
    async def answer(request: web.Request) -> web.Response:
        if request.query.get("kind") == "json":
            return web.json_response({"url": "https://zaken.example/z/1"})
        return web.Response(text="<html/>")

    async with serving({"/x": answer}) as base, HttpClients().client() as client:
        parsed = (await client.get(f"{base}/x?kind=json")).json()
        html = await client.get(f"{base}/x")
    assert parsed == {"url": "https://zaken.example/z/1"}
    with pytest.raises(ValueError, match=r"\w"):
        html.json()


async def test_a_redirect_is_answered_not_followed() -> None:
    hits: Counter[str] = Counter()

    async def moved(request: web.Request) -> web.Response:
        hits["moved"] += 1
        raise web.HTTPFound("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        hits["elsewhere"] += 1
        return web.Response(status=201)

    routes = {"/moved": moved, "/elsewhere": elsewhere}
    async with serving(routes) as base, HttpClients().client() as client:
        response = await client.post(f"{base}/moved", body=b"{}")
    assert response.status == 302
    assert response.location() == f"{base}/elsewhere"
    assert hits == Counter({"moved": 1})


async def test_requests_one_after_another_share_one_connection() -> None:
    peers: set[int] = set()

    async def answer(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        return web.Response(status=204)

    async with serving({"/x": answer}) as base, HttpClients().client() as client:
        for _ in range(5):
            await client.post(f"{base}/x", body=b"{}")
    assert len(peers) == 1


async def test_a_slow_answer_is_a_read_timeout() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.6)
        return web.Response(status=201)

    async with serving({"/slow": slow}) as base, HttpClients().client(timeout_s=0.2) as client:
        with pytest.raises(HttpTimeoutError) as caught:
            await client.post(f"{base}/slow", body=b"{}")
    assert (caught.value.phase, caught.value.seconds) == ("read", 0.2)
    assert failure_for_exception(caught.value).reason == (
        "timeout after 0.2 s (read): SocketTimeoutError"
    )


async def test_a_back_office_that_stops_taking_the_body_times_the_whole_request_out() -> None:
    """Accepts the connection, never reads: the body fills the socket buffers and the send
    waits; three times timeout_s later the request gives up, naming the phase."""
    accepted: list[socket.socket] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    loop = asyncio.get_running_loop()

    async def accept() -> None:
        connection, _ = await loop.sock_accept(listener)
        accepted.append(connection)  # kept open, never read

    acceptor = asyncio.create_task(accept())
    try:
        async with HttpClients().client(timeout_s=0.2) as client:
            with pytest.raises(HttpTimeoutError) as caught:
                await client.post(f"http://127.0.0.1:{port}/in", body=b"x" * 64_000_000)
    finally:
        acceptor.cancel()
        for connection in accepted:
            connection.close()
        listener.close()
    assert caught.value.phase == "request"
    assert caught.value.seconds == pytest.approx(0.6)


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with HttpClients().client(timeout_s=2) as client:
        with pytest.raises(HttpConnectError) as caught:
            await client.get(f"http://127.0.0.1:{free_port()}/x")
    assert failure_for_exception(caught.value).reason.startswith(
        "connection refused or host unreachable"
    )


async def test_secrets_are_read_per_request_so_a_rotated_one_is_used() -> None:
    environ = {"KEY": "old"}
    sent: list[str] = []

    def record(request: HttpRequest) -> HttpResponse:
        sent.append(request.headers["Authorization"])
        return HttpResponse(200)

    clients = HttpClients(Secrets(environ), MockTransport(record))
    async with clients.client(auth=HeaderAuth(value_env="KEY")) as client:
        await client.get("https://api.example/x")
        environ["KEY"] = "new"
        await client.get("https://api.example/x")
    assert sent == ["old", "new"]


class _OAuthServer:
    """A token endpoint and an API on one real server; the API answers 401 for revoked tokens."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.revoked: set[str] = set()
        self.api_calls: list[str] = []
        self.forms: list[str] = []

    async def token(self, request: web.Request) -> web.Response:
        self.forms.append((await request.read()).decode())
        assert request.headers["Authorization"].startswith("Basic ")
        await asyncio.sleep(0.05)  # slow enough for concurrent requests to overlap
        self.tokens_issued += 1
        return web.json_response({"access_token": f"t{self.tokens_issued}", "expires_in": 3600})

    async def api(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.api_calls.append(token)
        return web.Response(status=401 if token in self.revoked else 200)

    def routes(self) -> dict[str, Handler]:
        return {"/token": self.token, "/api": self.api}


def _oauth(base: str) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        token_url=f"{base}/token", client_id="knooppunt", client_secret_env="OAUTH", scope="zaken"
    )


async def test_concurrent_requests_share_one_token_and_a_revoked_one_is_fetched_again() -> None:
    server = _OAuthServer()
    async with serving(server.routes()) as base:
        clients = HttpClients(Secrets({"OAUTH": "s3cret"}))
        async with clients.client(auth=_oauth(base)) as client:
            first = await asyncio.gather(*(client.get(f"{base}/api") for _ in range(8)))
            server.revoked.add("t1")
            again = await asyncio.gather(*(client.get(f"{base}/api") for _ in range(4)))
    assert [r.status for r in first + again] == [200] * 12
    assert server.tokens_issued == 2  # one for the eight, one after the revocation
    assert server.forms == ["grant_type=client_credentials&scope=zaken"] * 2
    assert server.api_calls.count("t2") == 4


def _tls_files(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (EC, one day)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
            "-subj", "/CN=Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, subject, extra in (
        ("server", "/CN=127.0.0.1", ("-extfile", "server.ext")),
        ("client", "/CN=knooppunt-0363", ()),
    ):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", *extra)  # fmt: skip
    names = ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")
    return {name: folder / name for name in names}


async def test_mutual_tls_presents_the_client_certificate(tmp_path: Path) -> None:
    files = await asyncio.to_thread(_tls_files, tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=files["ca.pem"])
    server_tls.load_cert_chain(files["server.pem"], files["server.key"])
    server_tls.verify_mode = ssl.CERT_REQUIRED
    subjects: list[Any] = []

    async def who(request: web.Request) -> web.Response:
        subjects.append(request.transport.get_extra_info("peercert")["subject"])  # type: ignore[union-attr]
        return web.Response(status=204)

    tls = MutualTls(
        cert_file=files["client.pem"], key_file=files["client.key"], ca_file=files["ca.pem"]
    )
    async with serving({"/who": who}, server_tls) as base:
        async with HttpClients().client(tls=tls, timeout_s=5) as client:
            response = await client.get(f"{base}/who")
        async with HttpClients().client(timeout_s=5) as stranger:  # certifi's CAs only
            with pytest.raises(HttpTlsError) as caught:
                await stranger.get(f"{base}/who")
    assert response.status == 204
    assert subjects == [((("commonName", "knooppunt-0363"),),)]
    assert failure_for_exception(caught.value).reason.startswith("TLS handshake failed")


@pytest.mark.parametrize(
    "location",
    ["/zaken/1", "zaken/1", "https://o.example/z", "//cdn.example/x", "/a/../b", "?q=2",
     "/z?x=1#f", "../up", "/a/./b"],
)  # fmt: skip
def test_the_location_is_made_absolute_as_rfc_3986_says(location: str) -> None:
    url = "http://127.0.0.1:8080/api/zaken?x=1"
    answer = HttpResponse.of(201, headers={"Location": location}, url=url)
    assert answer.location() == urljoin(url, location)


async def test_clients_sharing_a_pool_open_at_most_its_connections_per_host() -> None:
    """The hub's destinations share one ConnectionPool: 30 destinations x 8 requests at once to
    one supplier's host use at most ``per_host`` connections (each its own pool: up to 240)."""
    peers: set[Any] = set()
    busy, peak = 0, 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal busy, peak
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        busy += 1
        peak = max(peak, busy)
        await asyncio.sleep(0.01)
        busy -= 1
        return web.Response(status=201)

    pool = ConnectionPool(per_host=4)
    async with serving({"/zaken": slow}) as base:
        clients = [HttpClients(Secrets({}), pool=pool).client() for _ in range(30)]
        answers = await asyncio.gather(
            *(client.post(f"{base}/zaken", body=b"{}") for client in clients for _ in range(8))
        )
        for client in clients:
            await client.aclose()  # the pool stays open for the others: its owner closes it
        assert pool.session().closed is False
        await pool.aclose()
    assert [a.status for a in answers] == [201] * 240
    assert peak <= 4
    assert len(peers) <= 4
