"""How a connector's HTTP client authenticates: config models (a ``type``-tagged union a
connector embeds in its own config) and the auth flows behind them, which the SDK's HTTP client
(connectors.sdk.http_client) runs on every request.

- ``none``: nothing.
- ``header``: ``<header>: <value of value_env>``, verbatim (``Bearer …``, an API key).
- ``zgw-jwt``: ``Authorization: Bearer <JWT>``, HS256 over ``iss``, ``iat``, ``client_id``,
  ``user_id``, ``user_representation``, signed with the secret in ``secret_env``, made fresh per
  request (the VNG ZGW APIs' authorisation, as Open Zaak checks it).
- ``oauth2-client-credentials``: ``Authorization: Bearer <access token>`` from ``token_url``
  (RFC 6749 §4.4; the client authenticates with HTTP Basic, §2.3.1), cached until 30 s before
  ``expires_in`` runs out, and fetched again once when the API answers 401.

Mutual TLS (``MutualTls``: client certificate and key files, optional CA bundle) is a property of
the connection, not of a request, and combines with any of these.

Secrets are read when a request is made: a missing variable raises SecretMissingError from the
request (a sink turns that into Permanent, naming the variable). A token endpoint that refuses
raises TokenRefusedError (an HttpError, so retryable) with its status. Concurrent requests share
one token fetch.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Protocol
from urllib.parse import urlencode

import jwt
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from connectors.sdk.http_messages import HttpError, HttpRequest
from connectors.sdk.secrets import SecretName

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connectors.sdk.http_messages import HttpResponse
    from connectors.sdk.secrets import Secrets

    Send = Callable[[HttpRequest], Awaitable[HttpResponse]]

__all__ = [
    "AuthFlow",
    "HeaderAuth",
    "HttpAuth",
    "MutualTls",
    "NoAuth",
    "OAuth2ClientCredentials",
    "TokenRefusedError",
    "ZgwJwtAuth",
    "auth_flow_for",
    "secret_names",
    "zgw_jwt",
]

TOKEN_EARLY_REFRESH_S = 30.0  # a cached token is replaced this long before it expires


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoAuth(_Model):
    """No authentication."""

    type: Literal["none"] = "none"


class HeaderAuth(_Model):
    """One header whose value is a secret (an API key, a static bearer token)."""

    type: Literal["header"] = "header"
    header: str = Field("Authorization", pattern=r"^[A-Za-z0-9-]+$", description="Header name.")
    value_env: SecretName = Field(description="Environment variable holding the header value.")


class ZgwJwtAuth(_Model):
    """A ZGW-style JWT (HS256) per request, as Open Zaak and the other ZGW APIs expect."""

    type: Literal["zgw-jwt"] = "zgw-jwt"
    client_id: str = Field(min_length=1, description="Client id registered at the API.")
    secret_env: SecretName = Field(description="Environment variable holding the client secret.")
    user_id: str = Field("knooppunt", description="Claim user_id: who acts (audit trail).")
    user_representation: str = Field("Knooppunt", description="Claim user_representation.")


class OAuth2ClientCredentials(_Model):
    """OAuth2 client credentials grant (RFC 6749 §4.4)."""

    type: Literal["oauth2-client-credentials"] = "oauth2-client-credentials"
    token_url: HttpUrl = Field(description="The authorization server's token endpoint.")
    client_id: str = Field(min_length=1)
    client_secret_env: SecretName = Field(description="Environment variable of the secret.")
    scope: str | None = Field(None, description="Space-separated scopes to ask for.")


HttpAuth = Annotated[
    NoAuth | HeaderAuth | ZgwJwtAuth | OAuth2ClientCredentials, Field(discriminator="type")
]


def secret_names(auth: NoAuth | HeaderAuth | ZgwJwtAuth | OAuth2ClientCredentials) -> list[str]:
    """The environment variables ``auth`` reads its secrets from (empty for ``none``): what a
    connector checks at start, so a missing one stops the start instead of every request."""
    if isinstance(auth, HeaderAuth):
        return [auth.value_env]
    if isinstance(auth, ZgwJwtAuth):
        return [auth.secret_env]
    if isinstance(auth, OAuth2ClientCredentials):
        return [auth.client_secret_env]
    return []


class MutualTls(_Model):
    """Client certificate for mutual TLS (PKIoverheid, Digikoppeling): PEM file paths."""

    cert_file: Path = Field(description="Client certificate (PEM).")
    key_file: Path = Field(description="Its private key (PEM).")
    ca_file: Path | None = Field(None, description="CA bundle to verify the server (PEM).")


class TokenRefusedError(HttpError):
    """The token endpoint did not hand out a token. ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AuthFlow(Protocol):
    """How one client authenticates its requests. ``send`` carries a request of the flow's own
    (a token request) with the client's transport and timeout."""

    async def authorize(self, request: HttpRequest, send: Send) -> None:
        """Add the credentials to ``request``, just before it goes out."""

    async def refresh(self, request: HttpRequest, send: Send) -> bool:
        """``request`` was answered 401: True when fresh credentials are worth one more try."""


class _NoFlow:
    async def authorize(self, request: HttpRequest, send: Send) -> None:
        return None

    async def refresh(self, request: HttpRequest, send: Send) -> bool:
        return False


class _HeaderFlow(_NoFlow):
    def __init__(self, config: HeaderAuth, secrets: Secrets) -> None:
        self._config, self._secrets = config, secrets

    async def authorize(self, request: HttpRequest, send: Send) -> None:
        request.headers[self._config.header] = self._secrets.get(self._config.value_env)


def zgw_jwt(config: ZgwJwtAuth, secret: str, now: float) -> str:
    """The JWT of one request: HS256 over iss, iat, client_id, user_id, user_representation."""
    claims = {
        "iss": config.client_id,
        "iat": int(now),
        "client_id": config.client_id,
        "user_id": config.user_id,
        "user_representation": config.user_representation,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class _ZgwJwtFlow(_NoFlow):
    def __init__(self, config: ZgwJwtAuth, secrets: Secrets) -> None:
        self._config, self._secrets = config, secrets

    async def authorize(self, request: HttpRequest, send: Send) -> None:
        token = zgw_jwt(self._config, self._secrets.get(self._config.secret_env), time.time())
        request.headers["Authorization"] = f"Bearer {token}"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class _OAuth2Flow:
    def __init__(self, config: OAuth2ClientCredentials, secrets: Secrets) -> None:
        self._config, self._secrets = config, secrets
        self._token: str | None = None
        self._valid_until = 0.0
        self._fetching = asyncio.Lock()  # one token request at a time; the others wait for it

    def _token_request(self) -> HttpRequest:
        form = {"grant_type": "client_credentials"}
        if self._config.scope:
            form["scope"] = self._config.scope
        secret = self._secrets.get(self._config.client_secret_env)
        headers = {
            "Authorization": _basic(self._config.client_id, secret),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        return HttpRequest("POST", str(self._config.token_url), headers, urlencode(form).encode())

    async def _fetch(self, send: Send) -> None:
        response = await send(self._token_request())
        if response.status != 200:
            raise TokenRefusedError(
                f"token endpoint answered HTTP {response.status}", response.status
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TokenRefusedError("token endpoint sent no access_token", 200) from exc
        self._token = token
        self._valid_until = time.monotonic() + max(0.0, expires_in - TOKEN_EARLY_REFRESH_S)

    def _usable(self) -> bool:
        return self._token is not None and time.monotonic() < self._valid_until

    async def authorize(self, request: HttpRequest, send: Send) -> None:
        if not self._usable():
            async with self._fetching:
                if not self._usable():
                    await self._fetch(send)
        request.headers["Authorization"] = f"Bearer {self._token}"

    async def refresh(self, request: HttpRequest, send: Send) -> bool:
        """Revoked early: one fresh token, unless another request already fetched one."""
        used = request.headers.get("Authorization", "").removeprefix("Bearer ")
        async with self._fetching:
            if self._token == used:
                await self._fetch(send)
        return True


def auth_flow_for(
    auth: NoAuth | HeaderAuth | ZgwJwtAuth | OAuth2ClientCredentials, secrets: Secrets
) -> AuthFlow:
    """The flow of ``auth``, reading secrets from ``secrets`` per request."""
    if isinstance(auth, HeaderAuth):
        return _HeaderFlow(auth, secrets)
    if isinstance(auth, ZgwJwtAuth):
        return _ZgwJwtFlow(auth, secrets)
    if isinstance(auth, OAuth2ClientCredentials):
        return _OAuth2Flow(auth, secrets)
    return _NoFlow()
