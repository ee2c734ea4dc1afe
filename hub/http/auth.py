"""ZGW-style JWT authentication: HS256, a ``client_id`` claim, a secret per client.

A client is bound to the tenants its config lists; everything else is refused.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import jwt

from hub.config import client_secret
from hub.http.problems import ProblemError

if TYPE_CHECKING:
    from hub.config import ApiClient, HubConfig

__all__ = ["Authenticator", "make_token"]

MAX_TOKEN_AGE_S = 3600
CLOCK_LEEWAY_S = 60


def make_token(client_id: str, secret: str, issued_at: float | None = None) -> str:
    """A token as a ZGW client makes it (used by ``knooppunt demo`` and the tests)."""
    now = int(issued_at if issued_at is not None else time.time())
    claims = {"iss": client_id, "client_id": client_id, "iat": now}
    return jwt.encode(claims, secret, algorithm="HS256")


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Not authenticated", detail, "not_authenticated")


class Authenticator:
    """Checks bearer tokens against the configured clients. Reads every secret at construction,
    so a missing secret stops the hub at start instead of failing the first request."""

    def __init__(self, config: HubConfig) -> None:
        self._clients = {c.id: (c, client_secret(config, c)) for c in config.clients}

    def authenticate(self, authorization: str | None, now: float | None = None) -> ApiClient:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("send 'Authorization: Bearer <JWT>' (HS256, claim client_id)")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"malformed token: {exc}") from exc
        client_id = unverified.get("client_id") or unverified.get("iss")
        entry = self._clients.get(str(client_id))
        if entry is None:
            raise _unauthorized("unknown client_id")
        client, secret = entry
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"require": ["iat"]},
                leeway=CLOCK_LEEWAY_S,
            )
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"token refused: {exc}") from exc
        age = (now if now is not None else time.time()) - float(claims["iat"])
        if age > MAX_TOKEN_AGE_S + CLOCK_LEEWAY_S:
            raise _unauthorized(f"token is older than {MAX_TOKEN_AGE_S} s; make a new one")
        return client

    @staticmethod
    def authorize(client: ApiClient, tenant: str) -> None:
        if tenant not in client.tenants:
            raise ProblemError(
                403,
                "Forbidden",
                f"client {client.id!r} may not act for tenant {tenant}",
                "forbidden",
            )
