"""``knooppunt abonnementen list|show|replay`` (issue 9 part 5) against a hub running as a user
runs it, on the session's real broker: a subscriber that refuses a notificatie, its dead letter
seen per abonnement with the delivery state, replayed once the subscriber is fixed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from hub.runtime.settings import Settings
from tests.fakes.nrc_subscriber import running_subscriber
from tests.integration.notificaties_setup import auth, notificatie, nrc_config_data
from tests.integration.processes import hub_env, hub_process, knooppunt, wait_ready_process
from tests.kafka_under_test import KafkaUnderTest, free_port

pytestmark = pytest.mark.kafka


def _eventually(condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_an_abonnements_dead_letters_are_listed_shown_and_replayed(
    kafka: KafkaUnderTest, prefix: str, tmp_path: Path
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=kafka.bootstrap, topic_prefix=prefix, http_port=free_port()
    )
    data = nrc_config_data()
    data["delivery"] = {"retry_delays": ["1s"], "circuit_break": "1s"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    env = hub_env(settings)
    base = f"http://127.0.0.1:{settings.http_port}"
    with running_subscriber() as subscriber, hub_process(settings, config, tmp_path) as process:
        wait_ready_process(settings, process, timeout_s=90)
        with httpx.Client(base_url=base, timeout=10) as http:
            assert (
                http.post(
                    "/api/v1/kanaal", json={"naam": "zaken"}, headers=auth("openzaak-0363")
                ).status_code
                == 201
            )
            made = http.post(
                "/api/v1/abonnement",
                json={
                    "callbackUrl": subscriber.url("zac"),
                    "auth": "Bearer zac",
                    "kanalen": [{"naam": "zaken", "filters": {}}],
                },
                headers=auth("zac-0363"),
            )
            assert made.status_code == 201, made.text
            abonnement = made.json()["url"].rsplit("/", 1)[1]
            subscriber.script(410)  # gone: permanent, straight to dead letters
            sent = notificatie(bronorganisatie="000363000")
            assert (
                http.post(
                    "/api/v1/notificaties", json=sent, headers=auth("openzaak-0363")
                ).status_code
                == 201
            )
        _eventually(lambda: any(r.status == 410 for r in subscriber.received))

        def listed() -> str:
            answer = knooppunt(env, "abonnementen", "list", "--tenant", "0363")
            assert answer.returncode == 0, answer.stderr
            return answer.stdout

        _eventually(lambda: "dead letters 1" in listed())
        line = next(line for line in listed().splitlines() if line.startswith(abonnement))
        assert "zaken" in line
        assert "failed 1" in line
        assert subscriber.url("zac") in line
        assert "1 abonnement(en) for tenant 0363" in listed()
        other = knooppunt(env, "abonnementen", "list", "--tenant", "0599")
        assert "0 abonnement(en) for tenant 0599" in other.stdout  # 0363's is not 0599's

        shown = knooppunt(env, "abonnementen", "show", "--tenant", "0363", abonnement)
        assert shown.returncode == 0, shown.stderr
        assert "HTTP 410" in shown.stdout
        assert "Bearer zac" not in shown.stdout  # auth is never printed
        assert "(set, not shown)" in shown.stdout
        hidden = knooppunt(env, "abonnementen", "show", "--tenant", "0599", abonnement)
        assert hidden.returncode != 0
        assert f"tenant 0599 has no abonnement {abonnement}" in hidden.stderr

        replayed = knooppunt(env, "abonnementen", "replay", "--tenant", "0363", abonnement)
        assert replayed.returncode == 0, replayed.stderr
        assert "1 dead letter(s) replayed" in replayed.stdout
        _eventually(lambda: any(n["kanaal"] == "zaken" for n in subscriber.notifications("zac")))
        _eventually(lambda: "delivered 1" in listed())
        assert "dead letters 0" in listed()  # replayed: not waiting any more
        again = knooppunt(env, "abonnementen", "replay", "--tenant", "0363", abonnement)
        assert "has no dead letters waiting: nothing to replay" in again.stdout  # never twice
    assert [n for n in subscriber.notifications("zac") if n["kanaal"] == "zaken"] == [sent]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--tenant", "99999"], "a tenant id is a four-digit gemeentecode"),
        (["list", "--tenant", "9999"], "no tenant 9999 at"),  # never ran: no dead-letter topic
        (["show", "--tenant", "0363", "not-a-uuid"], "is not an abonnement id"),
    ],
)
def test_mistakes_are_one_line(
    kafka: KafkaUnderTest, prefix: str, args: list[str], message: str
) -> None:
    settings = Settings(kafka_bootstrap_servers=kafka.bootstrap, topic_prefix=prefix)
    answer = knooppunt(hub_env(settings), "abonnementen", *args)
    assert answer.returncode == 2
    assert message in answer.stderr
    assert "Traceback" not in answer.stderr
    assert len(answer.stderr.strip().splitlines()) == 1
