"""BRP enrichment at delivery (issue 8): the destination that asks gets the person's requested
fields from a Haal Centraal BRP personen API (a real local server speaking it, tests/fakes/brp);
other destinations of the same event get none of it, and nothing of it lands on Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.config import HubConfig
from hub.runtime.settings import Settings
from tests.conftest import demo_token, running_hub
from tests.fakes.backoffice import FakeBackOffice, running_backoffice
from tests.fakes.brp import FakeBrp, running_brp
from tests.fakes.registries import running_registries
from tests.integration.helpers import SECRETS, form_route, tenant_entry, until, wait_ready
from tests.kafka_reading import read_topics
from tests.samples import VALID_BSN, submission

pytestmark = pytest.mark.kafka
AUTH = {"Authorization": f"Bearer {demo_token()}"}
FIELDS = ["naam.voornamen", "naam.geslachtsnaam", "geboorte.datum"]


@pytest.fixture
def backoffice() -> Iterator[FakeBackOffice]:
    with running_backoffice() as fake:
        yield fake


@pytest.fixture
def brp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBrp]:
    monkeypatch.setenv("BRP_API_KEY_TEST", "brp-key")
    with running_brp(api_key="brp-key") as fake:
        yield fake


def _config(backoffice: FakeBackOffice, brp: FakeBrp) -> HubConfig:
    tenant: dict[str, Any] = tenant_entry(
        "0363", {"zaken": backoffice.url("zaken"), "archief": backoffice.url("archief")}
    )
    tenant["destinations"][0]["enrich"] = {"brp": FIELDS}
    tenant["brp"] = {
        "url": brp.url,
        "api_key_env": "BRP_API_KEY_TEST",
        "doelbinding": "BRPACT-Formulieren",
        "verwerking": "Aanvraag parkeervergunning",
    }
    return HubConfig.model_validate(
        {
            "tenants": [tenant],
            "clients": [
                {"id": "demo-eformulieren", "secret_file": str(SECRETS), "tenants": ["0363"]}
            ],
            "routes": [form_route("0363", "parkeervergunning", ["zaken", "archief"])],
            "delivery": {"retry_delays": ["1s", "2s", "3s"]},
        }
    )


async def test_only_the_destination_that_asks_gets_the_persons_fields(
    hub_settings: Settings, backoffice: FakeBackOffice, brp: FakeBrp
) -> None:
    citizen = submission("parkeervergunning")
    company = submission(
        "parkeervergunning", authentication={"method": "eherkenning", "kvk": "69599084"}
    )
    names = hub_settings.topics
    async with running_hub(hub_settings, _config(backoffice, brp)) as (_hub, http):
        await wait_ready(http)
        for body in (citizen, company):
            answer = await http.post("/api/v1/tenants/0363/submissions", json=body, headers=AUTH)
            assert answer.status_code == 202, answer.text
        await until(lambda: len(backoffice.accepted("zaken")) == 2)
        await until(lambda: len(backoffice.accepted("archief")) == 2)
        on_kafka = await read_topics(
            hub_settings.kafka_bootstrap_servers, [names.destination("0363", "zaken")], 2
        )
    zaken = {r.body["subject"]: r.body["data"] for r in backoffice.accepted("zaken") if r.body}
    archief = [r.body["data"] for r in backoffice.accepted("archief") if r.body]
    enriched = zaken[citizen["submission_id"]]["enrichment"]["brp"]
    assert enriched == {
        "personen": [
            {
                "naam": {"voornamen": "Suzanne", "geslachtsnaam": "Moulin"},
                "geboorte": {
                    "datum": {"type": "Datum", "datum": "1980-04-01", "langFormaat": "1 april 1980"}
                },
            }
        ]
    }
    assert "enrichment" not in zaken[company["submission_id"]]  # no BSN: no one to ask for
    assert all("enrichment" not in data for data in archief)
    assert all(b"Suzanne" not in record.value for record in on_kafka)
    [(headers, body)] = brp.received()  # one request: the citizen's
    assert body == {
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": [VALID_BSN],
        "fields": FIELDS,
    }
    assert headers["x-api-key"] == "brp-key"
    assert headers["x-doelbinding"] == "BRPACT-Formulieren"
    assert headers["x-verwerking"] == "Aanvraag parkeervergunning"
    assert headers["x-origin-oin"] == "00000001000363000000"


async def test_a_brp_that_does_not_answer_delays_only_the_destination_that_asks(
    hub_settings: Settings, backoffice: FakeBackOffice, brp: FakeBrp
) -> None:
    brp.fail_with = 503
    async with running_hub(hub_settings, _config(backoffice, brp)) as (_hub, http):
        await wait_ready(http)
        answer = await http.post(
            "/api/v1/tenants/0363/submissions", json=submission("parkeervergunning"), headers=AUTH
        )
        assert answer.status_code == 202
        await until(lambda: len(backoffice.accepted("archief")) == 1)
        await until(lambda: len(brp.received()) >= 1)
        assert backoffice.accepted("zaken") == []
        brp.fail_with = None  # the BRP is back: the retry tier delivers, enriched
        await until(lambda: len(backoffice.accepted("zaken")) == 1)
    [delivered] = backoffice.accepted("zaken")
    assert delivered.body is not None
    assert delivered.body["data"]["enrichment"]["brp"]["personen"][0]["naam"]["voornamen"] == (
        "Suzanne"
    )


async def test_kvk_and_bag_enrich_the_destination_that_asks(
    hub_settings: Settings, backoffice: FakeBackOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The company's KvK basisprofiel (eHerkenning's KvK number) and the BAG addresses at the
    submission's postcode and huisnummer, from real local servers speaking both APIs."""
    monkeypatch.setenv("REGISTRY_KEY_TEST", "registry-key")
    with running_registries() as registries:
        tenant: dict[str, Any] = tenant_entry(
            "0363", {"zaken": backoffice.url("zaken"), "archief": backoffice.url("archief")}
        )
        tenant["destinations"][0]["enrich"] = {
            "kvk": True,
            "bag": {
                "postcode": "values.locatie.postcode",
                "huisnummer": "values.locatie.huisnummer",
            },
        }
        api = {"api_key_env": "REGISTRY_KEY_TEST"}
        tenant["kvk"] = {"url": registries.kvk_url, **api}
        tenant["bag"] = {"url": registries.bag_url, **api}
        config = HubConfig.model_validate(
            {
                "tenants": [tenant],
                "clients": [
                    {"id": "demo-eformulieren", "secret_file": str(SECRETS), "tenants": ["0363"]}
                ],
                "routes": [form_route("0363", "parkeervergunning", ["zaken", "archief"])],
            }
        )
        company = submission(
            "parkeervergunning",
            authentication={"method": "eherkenning", "kvk": "69599084"},
            values={"locatie": {"postcode": "1012 js", "huisnummer": 1}},
        )
        citizen = submission("parkeervergunning", values={"opmerking": "geen adres"})
        async with running_hub(hub_settings, config) as (_hub, http):
            await wait_ready(http)
            for body in (company, citizen):
                answer = await http.post(
                    "/api/v1/tenants/0363/submissions", json=body, headers=AUTH
                )
                assert answer.status_code == 202, answer.text
            await until(lambda: len(backoffice.accepted("zaken")) == 2)
            await until(lambda: len(backoffice.accepted("archief")) == 2)
        requests = registries.received()
    zaken = {r.body["subject"]: r.body["data"] for r in backoffice.accepted("zaken") if r.body}
    enriched = zaken[company["submission_id"]]["enrichment"]
    assert enriched["kvk"]["naam"] == "Test EMZ Dagobert"
    assert enriched["bag"]["adressen"][0]["openbareRuimteNaam"] == "Dam"
    assert "enrichment" not in zaken[citizen["submission_id"]]  # no KvK number, no address
    assert all("enrichment" not in r.body["data"] for r in backoffice.accepted("archief") if r.body)
    paths = sorted(path for path, _ in requests)
    assert paths == [
        "/api/v1/basisprofielen/69599084?",
        "/lvbag/individuelebevragingen/v2/adressen?postcode=1012JS&huisnummer=1",
    ]
    assert all(
        headers.get("apikey") == "registry-key" or headers.get("x-api-key") == "registry-key"
        for _, headers in requests
    )
