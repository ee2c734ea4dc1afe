"""OAuth2 access tokens of the configured identity providers (``identity_providers``).

A JWT access token (RFC 9068) is verified against its provider's published keys (a JWK Set,
RFC 7517, at ``jwks_url``): the signature with the key its header names (``kid``), ``iss``,
``aud`` and ``exp`` (RFC 7519 §4.1). The caller is the ``client_claim`` (the OAuth2 client,
``azp`` by default) and acts for the tenants its ``tenants_claim`` lists; its id is
``<provider>.<client>``.

Keys are fetched when the hub starts and every ``refresh``; a token naming a key not seen yet
(the provider rotated its keys) has them fetched again at once, at most once a minute, and is
refused meanwhile (the client retries). Fetching happens in the background: verifying a token
never waits for the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import jwt

from hub.config import duration_seconds
from hub.http.problems import ProblemError
from hub.observability.logs import get_logger

if TYPE_CHECKING:
    from hub.config import IdentityProvider

__all__ = ["AuthenticatedClient", "ProviderKeys", "verify_access_token"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
CLOCK_LEEWAY_S = 60
REFETCH_AFTER_S = 60.0  # an unknown kid fetches the keys again, at most this often
FETCH_TIMEOUT_S = 10.0
log = get_logger(__name__)


@dataclass(frozen=True)
class AuthenticatedClient:
    """Who called: a configured client's id (ZGW JWT) or ``<provider>:<client>`` (OAuth2), the
    tenants it may act for, and the scopes it holds (a configured client's ``scopes``; an access
    token's ``scope`` claim)."""

    id: str
    tenants: tuple[str, ...]
    scopes: frozenset[str] = frozenset()


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Not authenticated", detail, "not_authenticated")


class ProviderKeys:
    """The signing keys of one identity provider, by ``kid``."""

    def __init__(self, provider: IdentityProvider) -> None:
        self.provider = provider
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at = float("-inf")
        self._fetching: asyncio.Task[None] | None = None  # held: a task no one holds may vanish

    async def fetch(self) -> None:
        """Fetch the JWK Set; keep the keys in use when that fails (logged)."""
        self.fetched_at = time.monotonic()
        try:
            timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
            async with (
                aiohttp.ClientSession(timeout=timeout, trust_env=False) as session,
                session.get(self.provider.jwks_url) as answer,
            ):
                answer.raise_for_status()
                document = await answer.json(content_type=None)
            key_set = jwt.PyJWKSet.from_dict(document)
        except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWTError) as exc:
            log.warning(
                "identity_provider_keys_failed",
                provider=self.provider.name,
                error=f"{type(exc).__name__}: {exc}",
            )
            return
        self.keys = {key.key_id: key for key in key_set.keys if key.key_id}
        log.info("identity_provider_keys", provider=self.provider.name, keys=len(self.keys))

    async def keep_fresh(self) -> None:
        """Fetch every ``refresh`` until cancelled (the first fetch is the starter's)."""
        every = duration_seconds(self.provider.refresh)
        while True:
            await asyncio.sleep(every)
            await self.fetch()

    def key(self, kid: str) -> jwt.PyJWK | None:
        """The key named ``kid``; None (and a fetch started, at most once a minute) if unknown."""
        found = self.keys.get(kid)
        if found is None and time.monotonic() - self.fetched_at > REFETCH_AFTER_S:
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to start
                self._fetching = asyncio.get_running_loop().create_task(self.fetch())
        return found


def _client_id(provider: str, client: str) -> str:
    """``<provider>.<client>``, in the characters a client id (and the CloudEvents source's
    ``systeem`` part) allows: anything else becomes ``-``."""
    return _UNSAFE.sub("-", f"{provider}.{client}")[:64]


def _tenants(claims: dict[str, Any], claim: str) -> tuple[str, ...]:
    value = claims.get(claim)
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise _unauthorized(f"the token has no {claim!r} claim listing the tenants it acts for")


def verify_access_token(
    token: str, keys: ProviderKeys, now: float
) -> tuple[AuthenticatedClient, float]:
    """The caller of an access token of ``keys.provider`` and until when (epoch seconds) the
    token stays acceptable. Raises ProblemError(401) naming what is wrong."""
    provider = keys.provider
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"malformed token: {exc}") from exc
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in provider.algorithms:
        raise _unauthorized(f"algorithm {algorithm!r} is not accepted from {provider.name}")
    key = keys.key(str(kid)) if kid else None
    if key is None:
        raise _unauthorized(
            f"signed with a key {provider.name} does not publish (kid {kid!r}); keys are "
            "fetched again, try once more in a minute"
        )
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(provider.algorithms),
            audience=provider.audience,
            issuer=provider.issuer,
            options={"require": ["exp", "iss", "aud"]},
            leeway=CLOCK_LEEWAY_S,
        )
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"token refused: {exc}") from exc
    client = claims.get(provider.client_claim) or claims.get("client_id") or claims.get("sub")
    if not isinstance(client, str) or not client:
        raise _unauthorized(f"the token names no client ({provider.client_claim!r} claim)")
    accepted_until = float(claims["exp"]) + CLOCK_LEEWAY_S
    if now > accepted_until:
        raise _unauthorized("token refused: Signature has expired")
    scope = claims.get("scope")
    caller = AuthenticatedClient(
        _client_id(provider.name, client),
        _tenants(claims, provider.tenants_claim),
        frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
    )
    return caller, accepted_until
