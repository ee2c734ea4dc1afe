from __future__ import annotations

import base64
import time
from pathlib import Path

import orjson
import pytest

from hub.config import HubConfig, load_config
from hub.errors import ConfigError
from hub.http.auth import Authenticator, make_token
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
    client = demo_config.clients[0]
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
