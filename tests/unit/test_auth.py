from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest

from hub.config import HubConfig, load_config
from hub.errors import ConfigError
from hub.http.auth import (
    CLOCK_LEEWAY_S,
    MAX_TOKEN_AGE_S,
    TOKEN_CACHE_SIZE,
    AuthenticatedClient,
    Authenticator,
    make_token,
)
from hub.http.problems import ProblemError
from tests.conftest import DEMO_SECRET


def _status(authenticator: Authenticator, header: str | None) -> int:
    with pytest.raises(ProblemError) as caught:
        authenticator.authenticate(header)
    return caught.value.status


def test_a_zgw_token_of_a_configured_client_is_accepted(demo_config: HubConfig) -> None:
    client = Authenticator(demo_config).authenticate(
        f"Bearer {make_token('demo-eformulieren', DEMO_SECRET)}"
    )
    assert client.id == "demo-eformulieren"


def test_bad_tokens_are_401(demo_config: HubConfig) -> None:
    auth = Authenticator(demo_config)
    assert _status(auth, None) == 401
    assert _status(auth, "Basic abc") == 401
    assert _status(auth, "Bearer not-a-jwt") == 401
    assert _status(auth, f"Bearer {make_token('demo-eformulieren', 'wrong-secret-' * 4)}") == 401
    assert _status(auth, f"Bearer {make_token('someone-else', DEMO_SECRET)}") == 401
    old = make_token("demo-eformulieren", DEMO_SECRET, issued_at=time.time() - 7200)
    assert _status(auth, f"Bearer {old}") == 401
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(orjson.dumps(part)).rstrip(b"=").decode()
            for part in (
                {"alg": "none"},
                {"client_id": "demo-eformulieren", "iat": int(time.time())},
            )
        )
        + "."
    )
    assert _status(auth, f"Bearer {unsigned}") == 401


def test_a_client_acts_only_for_its_tenants(demo_config: HubConfig) -> None:
    configured = demo_config.clients[0]
    client = AuthenticatedClient(configured.id, tuple(configured.tenants))
    Authenticator.authorize(client, "0363")
    with pytest.raises(ProblemError) as caught:
        Authenticator.authorize(client, "0518")
    assert caught.value.status == 403


def test_a_secret_that_cannot_be_read_stops_the_hub_at_start(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        'tenants:\n  - {id: "0363", name: A, oin: "00000001002564440000", rsin: "002564440"}\n'
        'clients:\n  - {id: c1, secret_env: KNOOPPUNT_TEST_UNSET_SECRET, tenants: ["0363"]}\n'
    )
    with pytest.raises(ConfigError, match="KNOOPPUNT_TEST_UNSET_SECRET is not set") as caught:
        Authenticator(load_config(path))
    assert caught.value.issues[0].field == "clients[0].secret_env"


def test_a_short_secret_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        'tenants:\n  - {id: "0363", name: A, oin: "00000001002564440000", rsin: "002564440"}\n'
        'clients:\n  - {id: c1, secret_env: KNOOPPUNT_TEST_SECRET, tenants: ["0363"]}\n'
    )
    monkeypatch.setenv("KNOOPPUNT_TEST_SECRET", "short")
    with pytest.raises(ConfigError, match="5 bytes; HS256 needs at least 32"):
        Authenticator(load_config(path))


def _token_with(claims: dict[str, object], secret: str = DEMO_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def test_a_known_token_is_not_verified_again_until_it_is_too_old(
    demo_config: HubConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = Authenticator(demo_config)
    issued = time.time()
    header = f"Bearer {make_token('demo-eformulieren', DEMO_SECRET, issued_at=issued)}"
    verified = []
    decode = jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        verified.append(1)
        return decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    for _ in range(3):
        assert auth.authenticate(header, now=issued + 10).id == "demo-eformulieren"
    assert len(verified) == 1
    too_old = issued + MAX_TOKEN_AGE_S + CLOCK_LEEWAY_S + 1
    with pytest.raises(ProblemError, match="older than 3600 s") as caught:
        auth.authenticate(header, now=too_old)
    assert caught.value.status == 401


def test_a_known_token_with_exp_is_refused_once_expired(demo_config: HubConfig) -> None:
    auth = Authenticator(demo_config)
    issued = time.time()
    claims = {"client_id": "demo-eformulieren", "iat": int(issued), "exp": int(issued) + 120}
    header = f"Bearer {_token_with(claims)}"
    assert auth.authenticate(header, now=issued).id == "demo-eformulieren"
    assert _status_at(auth, header, issued + 120 + CLOCK_LEEWAY_S + 1) == 401


def test_a_changed_byte_of_a_known_token_is_verified_and_refused(demo_config: HubConfig) -> None:
    auth = Authenticator(demo_config)
    token = make_token("demo-eformulieren", DEMO_SECRET)
    auth.authenticate(f"Bearer {token}")
    head, payload, signature = token.split(".")
    forged = _token_with({"client_id": "demo-eformulieren", "iat": int(time.time()) + 1}, "x" * 32)
    tampered = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert _status(auth, f"Bearer {tampered}") == 401
    assert _status(auth, f"Bearer {forged}") == 401
    assert auth.authenticate(f"Bearer {token}").id == "demo-eformulieren"


def test_the_known_tokens_are_bounded(demo_config: HubConfig) -> None:
    auth = Authenticator(demo_config)
    now = int(time.time())
    first = f"Bearer {make_token('demo-eformulieren', DEMO_SECRET, issued_at=now)}"
    auth.authenticate(first)
    for offset in range(1, TOKEN_CACHE_SIZE + 1):
        auth.authenticate(f"Bearer {make_token('demo-eformulieren', DEMO_SECRET, now - offset)}")
    assert len(auth._verified) == TOKEN_CACHE_SIZE
    assert first.removeprefix("Bearer ") not in auth._verified  # the oldest went first


def _status_at(authenticator: Authenticator, header: str, now: float) -> int:
    with pytest.raises(ProblemError) as caught:
        authenticator.authenticate(header, now=now)
    return caught.value.status
