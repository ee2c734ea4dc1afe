"""Notify's authentication: the API key's parts and the JWT each request carries.

Source: the GOV.UK Notify API documentation ("Authorisation header") and its clients
(alphagov/notifications-python-client): an API key is ``{key_name}-{service_id}-{secret}``,
the last two UUIDs of 36 characters each, and every request carries
``Authorization: Bearer <JWT>`` with header ``{"typ": "JWT", "alg": "HS256"}`` and claims
``iss`` (the service id) and ``iat`` (now, in epoch seconds), signed with the secret. Notify
refuses a token whose ``iat`` is more than 30 seconds from its own clock (403 AuthError), so a
token is made per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import jwt

__all__ = ["NotifyApiKey", "notify_jwt", "parse_api_key"]

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KEY = re.compile(rf"^(?P<name>.+)-(?P<service>{_UUID})-(?P<secret>{_UUID})$")


@dataclass(frozen=True)
class NotifyApiKey:
    """An API key's parts: ``service_id`` (the JWT's ``iss``) and ``secret`` (never shown)."""

    service_id: str
    secret: str = field(repr=False)


def parse_api_key(value: str) -> NotifyApiKey:
    """The parts of ``value``, a Notify API key ``{key_name}-{service_id}-{secret}`` (the key
    name may hold dashes; service id and secret are lowercase UUIDs, 36 characters each).

    Raises ValueError when it is not one; the message never repeats the value.
    """
    found = _KEY.fullmatch(value.strip())
    if found is None:
        raise ValueError(
            "not a Notify API key: expected {key_name}-{service_id}-{secret}, "
            "the last two UUIDs of 36 characters"
        )
    return NotifyApiKey(found["service"], found["secret"])


def notify_jwt(key: NotifyApiKey, now: float) -> str:
    """The token of one request: HS256 over ``{"iss": service_id, "iat": int(now)}`` (``now``
    in epoch seconds), signed with the key's secret."""
    claims = {"iss": key.service_id, "iat": int(now)}
    return jwt.encode(claims, key.secret, algorithm="HS256", headers={"typ": "JWT"})
