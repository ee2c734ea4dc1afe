"""Attachments of real size (issue 8): Open Formulieren's body with a 20 MiB file, on a real
broker, the bytes in the blob store (a folder here; the S3 store passes the same store suite in
test_blob_s3.py), the event small, the file served to the tenant's clients and read back by a
sink with a matching SHA-256."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.sdk import ConnectorContext, TenantInfo
from hub.config import HubConfig
from hub.runtime.blob_store import attachments_of
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.integration.helpers import SECRETS, tenant_entry, wait_ready
from tests.kafka_reading import read_topics

pytestmark = pytest.mark.kafka
BODY: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "open_formulieren_generic_json.json").read_text()
)
FORM_ID = BODY["metadata"]["form_id"]
URL = "/api/v1/tenants/0363/open-formulieren"
MiB = 1024 * 1024


def _config() -> HubConfig:
    return HubConfig.model_validate(
        {
            "tenants": [tenant_entry("0363", {"archief": None}), tenant_entry("0599", {})],
            "clients": [
                {"id": "demo-eformulieren", "secret_file": str(SECRETS), "tenants": ["0363"]},
                {"id": "other-gemeente", "secret_file": str(SECRETS), "tenants": ["0599"]},
            ],
            "routes": [
                {
                    "tenant": "0363",
                    "contract": "nl.gemeente.formulier.ingediend",
                    "when": {"form.id": FORM_ID},
                    "to": ["archief"],
                }
            ],
        }
    )


def _settings(hub_settings: Settings, tmp_path: Path, **limits: int) -> Settings:
    return hub_settings.model_copy(
        update={"blob_store": str(tmp_path / "blobs"), "public_url": "http://hub", **limits}
    )


def _auth(client: str = "demo-eformulieren") -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_token(client)}"}


async def test_a_20_mib_attachment_travels_by_reference(
    hub_settings: Settings, tmp_path: Path
) -> None:
    content = os.urandom(20 * MiB)
    body = copy.deepcopy(BODY)
    body["values"]["bijlage"] = {
        "file_name": "bouwtekening.pdf",
        "content": base64.b64encode(content).decode(),
    }
    settings = _settings(hub_settings, tmp_path)
    names = settings.topics
    async with running_hub(settings, _config()) as (_hub, http):
        await wait_ready(http)
        answer = await http.post(
            URL, content=orjson.dumps(body), headers={**_auth(), "Content-Type": "application/json"}
        )
        assert answer.status_code == 202, answer.text
        [copy_] = await read_topics(
            settings.kafka_bootstrap_servers, [names.destination("0363", "archief")], 1
        )
        submission = orjson.loads(copy_.value)
        [big] = [a for a in submission["attachments"] if a["name"] == "bouwtekening.pdf"]
        path = big["url"].removeprefix("http://hub")
        served = await http.get(path, headers=_auth())
        stranger = await http.get(path, headers=_auth("other-gemeente"))
        anonymous = await http.get(path)
        unknown = await http.get(path[:-64] + "0" * 64, headers=_auth())
        again = await http.get(path, headers={**_auth(), "If-None-Match": served.headers["etag"]})
    assert len(copy_.value) < 10_000  # the event stays small: the bytes are in the blob store
    assert big["sha256"] == hashlib.sha256(content).hexdigest()
    assert big["size"] == len(content)
    assert big["content_type"] == "application/pdf"
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["content-type"] == "application/pdf"
    assert stranger.status_code == 403
    assert anonymous.status_code == 401
    assert unknown.status_code == 404
    assert again.status_code == 304
    # A sink of the tenant reads the bytes back through the SDK (another process, same store).
    context = ConnectorContext(
        tenant=TenantInfo("0363", "00000001003630000000", "003630000"),
        destination="archief",
        connector="test",
        attachments=attachments_of(settings),
    )
    assert await context.read_attachment(big["url"], big["sha256"]) == content
    with pytest.raises(LookupError):
        await attachments_of(settings).read("0599", big["url"])  # another tenant's


async def test_files_over_the_limits_are_413_naming_the_limit(
    hub_settings: Settings, tmp_path: Path
) -> None:
    settings = _settings(
        hub_settings, tmp_path, max_attachment_bytes=MiB, max_submission_bytes=2 * MiB
    )
    one_too_big = copy.deepcopy(BODY)
    one_too_big["values"]["bijlage"]["content"] = base64.b64encode(b"x" * (MiB + 1)).decode()
    all_too_big = copy.deepcopy(BODY)
    all_too_big["values"]["fotos"] = [
        {"file_name": f"foto{i}.jpg", "content": base64.b64encode(b"y" * 700 * 1024).decode()}
        for i in range(3)
    ]  # 2.1 MiB of files in a body of 2.8 MiB: read, then refused for the files' total
    body_too_big = copy.deepcopy(BODY)
    body_too_big["values"]["fotos"] = [
        {"file_name": "foto.jpg", "content": base64.b64encode(b"z" * 3 * MiB).decode()}
    ]  # refused before the body is read
    async with running_hub(settings, _config()) as (_hub, http):
        await wait_ready(http)
        file_refused = await http.post(URL, json=one_too_big, headers=_auth())
        total_refused = await http.post(URL, json=all_too_big, headers=_auth())
        body_refused = await http.post(URL, json=body_too_big, headers=_auth())
    assert file_refused.status_code == 413
    assert str(MiB) in file_refused.json()["detail"]
    assert total_refused.status_code == 413
    assert str(2 * MiB) in total_refused.json()["detail"]
    assert body_refused.status_code == 413
