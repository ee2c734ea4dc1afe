"""Console operators' logins, sessions and CSRF tokens: pure functions of the config's operators
and their passwords (read once, at start), no state kept between requests.

A session is a cookie ``<operator>.<expires>.<nonce>.<signature>``: HMAC-SHA256 over the rest,
keyed by a key derived from the operator's password, so any hub process with the same config
accepts it, nobody without the password can make one, and changing the password ends every
session of that operator. The CSRF token of a form is HMAC of the session's nonce under the same
key: bound to one session, never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.config import operator_secret

if TYPE_CHECKING:
    from hub.config import HubConfig, Operator

__all__ = ["SESSION_S", "Operators", "Session"]

SESSION_S = 8 * 3600  # a working day; then log in again


@dataclass(frozen=True)
class Session:
    """A logged-in operator, from a verified cookie."""

    operator: Operator
    nonce: str
    expires: int

    def sees(self, tenant_id: str) -> bool:
        return self.operator.sees(tenant_id)


class Operators:
    """The config's operators with their keys. Reads every password at construction, so a
    missing one stops the hub at start (ConfigError naming file and line)."""

    def __init__(self, config: HubConfig) -> None:
        self._known = {
            o.id: (o, operator_secret(config, o).encode(), _session_key(operator_secret(config, o)))
            for o in config.operators
        }

    def __bool__(self) -> bool:
        return bool(self._known)

    def login(self, operator_id: str, password: str, now: float | None = None) -> str | None:
        """A new session cookie for the right password, else None (the same for an unknown
        operator: the answer does not tell which was wrong)."""
        known = self._known.get(operator_id)
        # Compare even for an unknown id, so the time taken does not tell ids apart.
        expected = known[1] if known is not None else secrets.token_bytes(32)
        if not hmac.compare_digest(expected, password.encode()) or known is None:
            return None
        expires = int(now if now is not None else time.time()) + SESSION_S
        payload = f"{operator_id}.{expires}.{secrets.token_hex(16)}"
        return f"{payload}.{_sign(known[2], payload)}"

    def session(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie carries, or None when it is absent, forged, or expired."""
        parts = (cookie or "").rsplit(".", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        operator_id, expires, nonce, signature = parts
        known = self._known.get(operator_id)
        if known is None:
            return None
        payload = f"{operator_id}.{expires}.{nonce}"
        if not hmac.compare_digest(_sign(known[2], payload), signature):
            return None
        if int(expires) < (now if now is not None else time.time()):
            return None
        return Session(known[0], nonce, int(expires))

    def csrf_token(self, session: Session) -> str:
        """The token every form of this session carries."""
        return _sign(self._known[session.operator.id][2], f"csrf.{session.nonce}")

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return hmac.compare_digest(self.csrf_token(session), token or "")


def _session_key(password: str) -> bytes:
    """A key only for signing, derived from the password (never the password itself)."""
    return hmac.new(password.encode(), b"knooppunt console session", hashlib.sha256).digest()


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
