"""Signing a webhook the Standard Webhooks way (https://www.standardwebhooks.com/, spec 1.0.0,
"Signature scheme" and "Webhook headers"). Pure functions: the sink reads the secret and the
clock, this module only computes.

The receiver gets three headers:

| header | value |
| --- | --- |
| ``webhook-id`` | the delivery's idempotency key: the same on every attempt and replay |
| ``webhook-timestamp`` | when this attempt was signed, integer unix seconds |
| ``webhook-signature`` | ``v1,<base64 of HMAC-SHA256 of "{id}.{timestamp}.{body}">`` per secret |

(several signatures space-delimited).

A signing secret is written ``whsec_<base64 of 24 to 64 random bytes>`` (the spec's
serialization and sizes). During a rotation the environment variable may hold two secrets
separated by a space: each signs, and a receiver that knows either one accepts the request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from contracts.errors import KnooppuntError

__all__ = [
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "SignatureSecretError",
    "signature_headers",
    "signatures",
    "signing_keys",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's marker of a serialized secret, not a secret
MIN_SECRET_BYTES = 24  # "at least 24 bytes (192 bits, 512 maximum)"
MAX_SECRET_BYTES = 64


class SignatureSecretError(KnooppuntError):
    """A signing secret that is not ``whsec_`` + base64 of 24 to 64 bytes. The message says what
    is wrong with it, never the secret itself."""


def _key(serialized: str, position: int) -> bytes:
    which = f"secret {position}" if position else "the secret"
    if not serialized.startswith(SECRET_PREFIX):
        raise SignatureSecretError(f"{which} does not start with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(serialized.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise SignatureSecretError(f"{which} is not base64 after {SECRET_PREFIX!r}") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise SignatureSecretError(
            f"{which} is {len(key)} bytes; Standard Webhooks asks for "
            f"{MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes"
        )
    return key


def signing_keys(value: str) -> tuple[bytes, ...]:
    """The HMAC keys in an environment variable's ``value``: one ``whsec_`` secret, or several
    separated by whitespace (a rotation). Raises SignatureSecretError when there is none or one
    is malformed."""
    serialized = value.split()
    if not serialized:
        raise SignatureSecretError("no secret given")
    numbered = len(serialized) > 1
    return tuple(_key(s, i + 1 if numbered else 0) for i, s in enumerate(serialized))


def signatures(keys: tuple[bytes, ...], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64>`` per key, space-delimited. The signed
    content is ``{msg_id}.{timestamp}.{body}``, ``body`` exactly the bytes sent."""
    if "." in msg_id:  # the spec: an id with a full stop could shift the signed fields
        raise ValueError("a webhook id may not contain '.'")
    content = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        for key in keys
    )


def signature_headers(
    keys: tuple[bytes, ...], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers for one request: ``webhook-id``, ``webhook-timestamp`` (unix seconds)
    and ``webhook-signature``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures(keys, msg_id, timestamp, body),
    }
