"""Bearer-token authentication: ZGW-style JWTs (HS256, a ``client_id`` claim, a secret per
configured client, bound to the tenants its config lists) and OAuth2 access tokens of the
configured identity providers (hub.http.oauth2: the tenants from a claim). A token whose ``iss``
is a provider's issuer is that provider's; any other is a ZGW JWT.

A token that passed every check is remembered (``TOKEN_CACHE_SIZE`` of them, the oldest
forgotten first) until the moment it would be refused: its age past ``MAX_TOKEN_AGE_S``, or its
``exp``. Clients send one token for many requests, and verifying it again was 12 % of the
intake's CPU at saturation (docs/design.md). Nothing else changes: a different token (another
signature, another claim, another byte) is another key and is verified in full; secrets are
read once, at start.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import TYPE_CHECKING

import jwt
import orjson

from hub.config import client_secret
from hub.http.oauth2 import AuthenticatedClient, ProviderKeys, verify_access_token
from hub.http.problems import ProblemError

if TYPE_CHECKING:
    from hub.config import HubConfig

__all__ = ["AuthenticatedClient", "Authenticator", "make_token"]

MAX_TOKEN_AGE_S = 3600
CLOCK_LEEWAY_S = 60
TOKEN_CACHE_SIZE = 1024


def make_token(client_id: str, secret: str, issued_at: float | None = None) -> str:
    """A token as a ZGW client makes it (used by ``knooppunt demo`` and the tests)."""
    now = int(issued_at if issued_at is not None else time.time())
    claims = {"iss": client_id, "client_id": client_id, "iat": now}
    return jwt.encode(claims, secret, algorithm="HS256")


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Not authenticated", detail, "not_authenticated")


def _unverified_claims(token: str) -> dict[str, object]:
    """The token's claims, read without checking anything: they only pick the secret or the
    provider the token is then verified with. One base64 and one JSON decode instead of PyJWT's
    whole unverified decode (a third of the check's cost)."""
    try:
        _header, payload, _signature = token.split(".")
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise _unauthorized("malformed token: not a JWT (header.payload.signature)") from exc
    if not isinstance(claims, dict):
        raise _unauthorized("malformed token: its payload is not a JSON object")
    return claims


class Authenticator:
    """Checks bearer tokens against the configured clients. Reads every secret at construction,
    so a missing secret stops the hub at start instead of failing the first request."""

    def __init__(self, config: HubConfig) -> None:
        self._clients = {
            c.id: (
                AuthenticatedClient(c.id, tuple(c.tenants), frozenset(c.scopes)),
                client_secret(config, c),
            )
            for c in config.clients
        }
        self.providers = {p.issuer: ProviderKeys(p) for p in config.identity_providers}
        self._tenants = frozenset(t.id for t in config.tenants)
        self._refreshing: list[asyncio.Task[None]] = []
        # token -> (its client, the last moment it is still accepted); insertion ordered
        self._verified: dict[str, tuple[AuthenticatedClient, float]] = {}

    async def start(self) -> None:
        """Fetch the identity providers' keys before the first request; keep them fresh."""
        await asyncio.gather(*(keys.fetch() for keys in self.providers.values()))
        self._refreshing = [
            asyncio.create_task(keys.keep_fresh()) for keys in self.providers.values()
        ]

    def stop(self) -> None:
        for task in self._refreshing:
            task.cancel()

    def authenticate(
        self, authorization: str | None, now: float | None = None
    ) -> AuthenticatedClient:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("send 'Authorization: Bearer <JWT>' (HS256, claim client_id)")
        moment = now if now is not None else time.time()
        known = self._verified.get(token)
        if known is not None:
            if moment <= known[1]:
                return known[0]
            del self._verified[token]  # expired: the full check below says why
        client, accepted_until = self._verify(token, moment)
        if len(self._verified) >= TOKEN_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (client, accepted_until)
        return client

    def _verify(self, token: str, now: float) -> tuple[AuthenticatedClient, float]:
        """Every check of the token; its client and until when it stays acceptable."""
        claims = _unverified_claims(token)
        provider = self.providers.get(str(claims.get("iss")))
        if provider is not None:
            return verify_access_token(token, provider, now)
        entry = self._clients.get(str(claims.get("client_id") or claims.get("iss")))
        if entry is None:
            raise _unauthorized("unknown client_id")
        client, secret = entry
        try:
            verified = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"require": ["iat"]},
                leeway=CLOCK_LEEWAY_S,
            )
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"token refused: {exc}") from exc
        accepted_until = float(verified["iat"]) + MAX_TOKEN_AGE_S + CLOCK_LEEWAY_S
        if now > accepted_until:
            raise _unauthorized(f"token is older than {MAX_TOKEN_AGE_S} s; make a new one")
        if "exp" in verified:  # PyJWT checked it against the clock; this against ``now``
            accepted_until = min(accepted_until, float(verified["exp"]) + CLOCK_LEEWAY_S)
            if now > accepted_until:
                raise _unauthorized("token refused: Signature has expired")
        return client, accepted_until

    def caller_for(self, authorization: str | None, tenant: str) -> AuthenticatedClient:
        """The caller acting for ``tenant``: ProblemError 401 without a valid token (before
        anything is said about the tenant), 404 for a tenant this hub does not serve, 403 for a
        client not bound to it."""
        client = self.authenticate(authorization)
        if tenant not in self._tenants:
            raise ProblemError(404, "Unknown tenant", f"no tenant {tenant!r} here", "not_found")
        self.authorize(client, tenant)
        return client

    @staticmethod
    def authorize(client: AuthenticatedClient, tenant: str) -> None:
        if tenant not in client.tenants:
            raise ProblemError(
                403,
                "Forbidden",
                f"client {client.id!r} may not act for tenant {tenant}",
                "forbidden",
            )
