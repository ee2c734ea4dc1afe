"""The email sink against a real SMTP server on loopback (tests/fakes/smtp.py, aiosmtpd): the
shared conformance suite, then the message that arrived (headers, both parts, the answers'
table, attachments byte for byte), TLS and AUTH, and how real SMTP replies classify."""

from __future__ import annotations

import base64
import copy
import hashlib
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from connectors.email import SPEC as EMAIL
from connectors.email import EmailConfig, EmailSink
from connectors.email.sink import build
from connectors.sdk import (
    AttachmentStore,
    ConnectorContext,
    Delivered,
    Delivery,
    Outcome,
    Permanent,
    Retryable,
    SecretMissingError,
    Secrets,
    TenantInfo,
    Throttled,
)
from connectors.sdk.conformance import SinkConformance
from contracts.cloudevents import source_urn
from contracts.errors import KnooppuntError
from contracts.events import build_event
from contracts.formulier import v1, v2
from contracts.registry import contract_for
from hub.blobs import FolderBlobStore
from hub.connector_host.attachments import HubAttachments
from hub.delivery.history import idempotency_key
from tests.fakes.smtp import (
    PASSWORD,
    PASSWORD_ENV,
    FakeSmtp,
    SmtpConformanceFake,
    running_smtp,
)
from tests.kafka_under_test import free_port

TENANT = TenantInfo("0363", "00000001002564440000", "002564440")
SENT_AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
FROM = "knooppunt@gemeente.example"
TO = ["vergunningen@gemeente.example", "archief@gemeente.example"]
BSN = v1.EXAMPLE["authentication"]["bsn"]  # type: ignore[index]
MiB = 1024 * 1024


@contextmanager
def _conformance_fake() -> Iterator[SmtpConformanceFake]:
    with running_smtp("starttls") as fake:
        yield fake.conformance()


CONFORMANCE = SinkConformance(
    spec=EMAIL,
    fake=_conformance_fake,
    invalid_configs=[
        ({}, "host"),
        ({**EMAIL.example, "to": []}, "to"),
        ({**EMAIL.example, "to": ["not an address"]}, "to"),
        ({**EMAIL.example, "from_address": "a@b\r\nBcc: x@y"}, "from_address"),
        ({**EMAIL.example, "subject": "{values[bsn]}"}, "subject"),
        ({**EMAIL.example, "tls": "ssl"}, "tls"),
        ({**EMAIL.example, "password_env": "s3cret value"}, "password_env"),
    ],
    environ={PASSWORD_ENV: PASSWORD},
)


@pytest.mark.parametrize("case", CONFORMANCE.case_names())
async def test_conformance(case: str) -> None:
    await CONFORMANCE.run(case)


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with running_smtp("starttls") as fake:
        yield fake


def _delivery(
    payload: dict[str, Any] | None = None,
    version: int = 1,
    attempt: int = 1,
    progress: Mapping[str, str] | None = None,
) -> Delivery:
    contract = contract_for("nl.gemeente.formulier.ingediend", version)
    event, _ = build_event(
        contract,
        payload or (v1.EXAMPLE if version == 1 else v2.EXAMPLE),
        tenant=TENANT.id,
        source=source_urn(TENANT.oin, "test"),
        event_id="b6e6c0e5-f93b-511d-b645-64ef99eee849",
        time=SENT_AT,
    )
    key = idempotency_key(event, "mail")
    return Delivery(event, TENANT.id, "mail", key, attempt, dict(progress or {}))


def _sink(
    fake: FakeSmtp | None,
    environ: dict[str, str] | None = None,
    attachments: AttachmentStore | None = None,
    **settings: object,
) -> EmailSink:
    base = fake.settings() if fake else {}
    config = EmailConfig.model_validate({**base, "from_address": FROM, "to": TO, **settings})
    context = ConnectorContext(
        TENANT,
        "mail",
        "email",
        secrets=Secrets({PASSWORD_ENV: PASSWORD} if environ is None else environ),
        attachments=attachments,
    )
    return build(config, context)


async def _deliver(sink: EmailSink, delivery: Delivery | None = None) -> Outcome:
    await sink.open()
    try:
        return await sink.deliver(delivery or _delivery())
    finally:
        await sink.close()


def _parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    """The text and HTML bodies and the attachments of an arrived message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    files = [part for part in message.iter_attachments() if isinstance(part, EmailMessage)]
    crlf = "\r\n"  # as on the wire (RFC 5322 §2.1)
    return text.get_content().replace(crlf, "\n"), html.get_content().replace(crlf, "\n"), files


async def _stored(folder: Path, content: bytes) -> tuple[HubAttachments, dict[str, Any]]:
    store = HubAttachments(FolderBlobStore(folder), "http://hub.example", 30 * MiB, 60 * MiB)
    kept = await store.store(TENANT.id, content, "application/pdf")
    return store, {
        "url": kept.url,
        "name": "bouwtekening.pdf",
        "content_type": "application/pdf",
        "size": kept.size,
        "sha256": kept.sha256,
    }


def _inline(name: str, content: bytes, content_type: str = "image/png") -> dict[str, Any]:
    return {
        "url": f"https://formulieren.example/files/{name}",
        "name": name,
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "inline_base64": base64.b64encode(content).decode(),
    }


async def test_the_message_that_arrives_is_readable_and_complete(
    smtp: FakeSmtp, tmp_path: Path
) -> None:
    drawing = bytes(range(256)) * 4096  # 1 MiB, every byte value
    store, stored = await _stored(tmp_path, drawing)
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 500
    huge = {**stored, "name": "film.mp4", "size": 40 * MiB, "sha256": "0" * 64}
    payload = copy.deepcopy(v1.EXAMPLE)
    payload["values"] = {
        "naam": "Jan <b>de</b> Vries & zn",
        "toelichting": 'regel 1\nregel 2 "quoted"',
        "adres": {"straat": "Dam", "huisnummer": 1},
        "kinderen": [{"naam": "Piet"}, {"naam": "Kees"}],
        "akkoord": True,
    }
    payload["attachments"] = [stored, _inline("foto's.png", photo), huge]
    sink = _sink(smtp, attachments=store, attach_max_bytes=5 * MiB)
    delivery = _delivery(payload)

    outcome = await _deliver(sink, delivery)

    [arrived] = smtp.arrived()
    message = arrived.message
    text, html, files = _parts(message)
    message_id = f"<{delivery.idempotency_key}@gemeente.example>"
    assert outcome == Delivered({"message_id": message_id})
    assert (arrived.mail_from, arrived.rcpt_tos) == (FROM, tuple(TO))
    assert (arrived.tls, arrived.login) == (True, "knooppunt")
    assert message["From"] == FROM
    assert message["To"] == ", ".join(TO)
    assert message["Subject"] == "Formulier ingediend: Parkeervergunning aanvragen (OF-7TZ2QX)"
    assert message["Message-ID"] == message_id
    assert message["Date"] == "Sun, 29 Nov 2026 10:00:00 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/mixed"
    [alternative, *_] = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    # The answers as a table, in the form's order, nested ones by their path.
    assert (
        "Antwoorden\n"
        "----------\n"
        "naam              Jan <b>de</b> Vries & zn\n"
        "toelichting       regel 1\n"
        '                  regel 2 "quoted"\n'
        "adres.straat      Dam\n"
        "adres.huisnummer  1\n"
        "kinderen[1].naam  Piet\n"
        "kinderen[2].naam  Kees\n"
        "akkoord           ja\n"
    ) in text
    assert "Referentie: OF-7TZ2QX\n" in text
    assert "Jan &lt;b&gt;de&lt;/b&gt; Vries &amp; zn</td>" in html
    assert "regel 1<br>regel 2 &quot;quoted&quot;</td>" in html
    assert ">kinderen[2].naam</th><td>Kees</td>" in html
    assert ">akkoord</th><td>ja</td>" in html
    assert "<b>de</b>" not in html
    # Attachments: the two that fit attached with their bytes, the third linked.
    assert [(f.get_filename(), f.get_content_type()) for f in files] == [
        ("bouwtekening.pdf", "application/pdf"),
        ("foto's.png", "image/png"),
    ]
    assert [f.get_content() for f in files] == [drawing, photo]
    assert f"film.mp4 (40,0 MiB, application/pdf): {huge['url']}\n" in text
    assert f'<a href="{huge["url"]}">' in html
    assert "bouwtekening.pdf (1,0 MiB, application/pdf): bijgevoegd" in text
    # The submitter's BSN is not written in mail.
    assert BSN not in arrived.raw.decode()


async def test_a_v2_submission_reads_as_v1(smtp: FakeSmtp) -> None:
    outcomes = [
        await _deliver(_sink(smtp), _delivery(version=1)),
        await _deliver(_sink(smtp), _delivery(version=2)),
    ]
    assert all(isinstance(o, Delivered) for o in outcomes), outcomes
    first, second = (_parts(a.message)[:2] for a in smtp.arrived())
    assert first == second
    assert "kenteken  AB-123-C\n" in first[0]
    assert "Ingelogd met: DigiD\n" in first[0]


async def test_implicit_tls_and_auth() -> None:
    with running_smtp("tls") as fake:
        outcome = await _deliver(_sink(fake))
        [arrived] = fake.arrived()
    assert isinstance(outcome, Delivered)
    assert (arrived.tls, arrived.login) == (True, "knooppunt")


async def test_plain_smtp_without_auth() -> None:
    with running_smtp("none", auth=False) as fake:
        outcome = await _deliver(_sink(fake))
        [arrived] = fake.arrived()
    assert isinstance(outcome, Delivered)
    assert (arrived.tls, arrived.login) == (False, None)


@pytest.mark.parametrize(
    ("stage", "reply", "kind", "code"),
    [
        ("RCPT", "550 5.1.1 <vergunningen@gemeente.example>: unknown user", Permanent, "550"),
        ("DATA", "554 5.7.1 Message refused as spam", Permanent, "554"),
        ("MAIL", "553 5.7.1 Sender not allowed", Permanent, "553"),
        ("DATA", "451 4.3.0 Local error in processing", Retryable, "451"),
        ("RCPT", "450 4.2.1 Greylisted, try again later", Retryable, "450"),
        ("MAIL", "452 4.3.1 Insufficient system storage", Retryable, "452"),
        ("MAIL", "421 4.7.0 Too many messages from you, slow down", Throttled, "421"),
    ],
)
async def test_smtp_replies_classify(
    smtp: FakeSmtp, stage: Any, reply: str, kind: type, code: str
) -> None:
    commands = len(TO) if stage == "RCPT" else 1  # one RCPT TO per recipient
    for _ in range(commands):
        smtp.fail_next(stage, reply)
    outcome = await _deliver(_sink(smtp))
    assert smtp.replies() == [reply] * commands
    assert isinstance(outcome, kind), outcome
    assert not isinstance(outcome, Delivered)
    assert outcome.code == code
    assert smtp.arrived() == []
    assert "@" not in outcome.reason  # the server's text, with its address, is not repeated
    assert reply.split()[1] in outcome.reason  # the enhanced status code is


async def test_a_transient_refusal_of_one_recipient_retries_only_that_one(smtp: FakeSmtp) -> None:
    recipients = ["a@gemeente.example", "b@gemeente.example", "c@gemeente.example"]
    smtp.refuse_recipient("b@gemeente.example", "450 4.2.0 Mailbox busy", times=1)
    sink = _sink(smtp, to=recipients)
    first = await _deliver(sink)
    assert isinstance(first, Retryable), first
    assert first.code == "450"
    assert (
        first.reason
        == "1 of 3 recipients: RCPT TO refused: 450 4.2.0 (mailbox unavailable for now)"
    )
    assert first.progress == {"to[0]": "sent", "to[2]": "sent"}  # places, never addresses

    second = await _deliver(
        _sink(smtp, to=recipients), _delivery(attempt=2, progress=first.progress)
    )

    assert isinstance(second, Delivered), second
    one, two = smtp.arrived()
    assert one.rcpt_tos == ("a@gemeente.example", "c@gemeente.example")
    assert two.rcpt_tos == ("b@gemeente.example",)
    assert one.message["Message-ID"] == two.message["Message-ID"]
    assert two.message["To"] == ", ".join(recipients)


async def test_a_permanent_refusal_of_one_recipient_is_permanent(smtp: FakeSmtp) -> None:
    smtp.refuse_recipient(TO[1], "550 5.1.1 No such user")
    outcome = await _deliver(_sink(smtp))
    assert outcome == Permanent(
        "1 of 2 recipients: RCPT TO refused: 550 5.1.1 (mailbox unavailable)", "550"
    )
    [arrived] = smtp.arrived()
    assert arrived.rcpt_tos == (TO[0],)


async def test_a_wrong_password_is_permanent(smtp: FakeSmtp) -> None:
    outcome = await _deliver(_sink(smtp, {PASSWORD_ENV: "not-the-password"}))
    assert isinstance(outcome, Permanent)
    assert outcome.code == "535"
    assert outcome.reason.startswith("AUTH refused: 535")
    assert smtp.arrived() == []


async def test_a_missing_password_is_refused_at_start(smtp: FakeSmtp) -> None:
    sink = _sink(smtp, {"OTHER": PASSWORD})
    with pytest.raises(SecretMissingError) as caught:
        await sink.open()
    assert str(caught.value) == (
        f"tenant 0363, destination mail: password_env: environment variable {PASSWORD_ENV} "
        "is not set"
    )
    outcome = await sink.deliver(_delivery())  # and if it goes missing later: Permanent
    assert outcome == Permanent(f"environment variable {PASSWORD_ENV} is not set (password_env)")


async def test_an_unreadable_ca_file_is_refused_at_start(smtp: FakeSmtp, tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate")
    for ca_file in (tmp_path / "missing.pem", not_pem):
        with pytest.raises(KnooppuntError) as caught:
            await _sink(smtp, ca_file=str(ca_file)).open()
        assert str(caught.value).startswith(
            f"tenant 0363, destination mail: ca_file: cannot read {ca_file} as PEM: "
        )


async def test_an_untrusted_certificate_is_retryable_and_sends_nothing(smtp: FakeSmtp) -> None:
    outcome = await _deliver(_sink(smtp, ca_file=None))  # the public CAs: not the fake's
    assert isinstance(outcome, Retryable)
    assert outcome.reason.startswith("TLS handshake failed")
    assert smtp.arrived() == []


async def test_starttls_not_offered_is_permanent_and_nothing_is_sent_in_clear() -> None:
    with running_smtp("none", auth=False) as fake:
        outcome = await _deliver(_sink(fake, tls="starttls"))
        assert fake.arrived() == []
    assert outcome == Permanent(
        "the server does not offer STARTTLS: check the settings tls and username"
    )


async def test_no_answer_is_retryable() -> None:
    closed = free_port()
    refused = await _deliver(_sink(None, host="127.0.0.1", port=closed, tls="none"))
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never greets
        port = silent.getsockname()[1]
        slow = await _deliver(_sink(None, host="127.0.0.1", port=port, tls="none", timeout_s=0.3))
    assert isinstance(refused, Retryable)
    assert refused.reason.startswith("connection refused")
    assert isinstance(slow, Retryable)
    assert slow.reason.startswith("timeout after 0.3 s")


async def test_attachments_the_hub_cannot_give_are_linked_a_damaged_one_is_permanent(
    smtp: FakeSmtp, tmp_path: Path
) -> None:
    store, stored = await _stored(tmp_path, b"%PDF-1.7 drawing")
    payload = copy.deepcopy(v1.EXAMPLE)
    payload["attachments"] = [stored]
    unknown = await _deliver(_sink(smtp), _delivery(payload))  # this context has no store
    damaged_payload = copy.deepcopy(payload)
    damaged_payload["attachments"] = [{**stored, "sha256": "1" * 64}]
    damaged = await _deliver(_sink(smtp, attachments=store), _delivery(damaged_payload))
    [arrived] = smtp.arrived()
    text, _, files = _parts(arrived.message)
    assert isinstance(unknown, Delivered)
    assert files == []
    assert f"bouwtekening.pdf (16 B, application/pdf): {stored['url']}" in text
    assert damaged == Permanent("attachment 1 does not match its sha256 or is damaged")


class _BrokenStore:
    max_attachment_bytes = max_submission_bytes = MiB

    async def store(self, tenant: str, content: bytes, content_type: str) -> Any:
        raise NotImplementedError

    async def read(self, tenant: str, url: str) -> bytes:
        raise OSError("the bucket does not answer")

    async def has(self, tenant: str, url: str) -> bool:
        raise OSError("the bucket does not answer")


async def test_an_attachment_store_that_does_not_answer_is_retryable(
    smtp: FakeSmtp, tmp_path: Path
) -> None:
    _, stored = await _stored(tmp_path, b"%PDF-1.7")
    payload = copy.deepcopy(v1.EXAMPLE)
    payload["attachments"] = [stored]
    outcome = await _deliver(_sink(smtp, attachments=_BrokenStore()), _delivery(payload))
    assert outcome == Retryable("attachment store unavailable: OSError")
    assert smtp.arrived() == []


async def test_normal_operation_and_failures_log_nothing(smtp: FakeSmtp) -> None:
    smtp.fail_next("RCPT", "550 5.1.1 <vergunningen@gemeente.example> unknown")
    with capture_logs() as logs:
        await _deliver(_sink(smtp))
        await _deliver(_sink(smtp))
    assert [a.rcpt_tos for a in smtp.arrived()] == [(TO[1],), tuple(TO)]  # the first: partial
    assert logs == []


async def test_check_says_whether_the_server_takes_us(smtp: FakeSmtp) -> None:
    good = _sink(smtp)
    await good.open()
    healthy = await good.check()
    wrong = await _sink(smtp, {PASSWORD_ENV: "wrong"}).check()
    assert healthy.ok
    assert healthy.detail == f"127.0.0.1:{smtp.port} answered"
    assert not wrong.ok
    assert "535" in wrong.detail
    assert smtp.arrived() == []


def test_the_connector_declares_itself_as_a_pushing_sink_of_submissions() -> None:
    assert (EMAIL.name, EMAIL.kind, EMAIL.config, EMAIL.build) == (
        "email",
        "sink",
        EmailConfig,
        build,
    )
    assert EMAIL.accepts_contract("nl.gemeente.formulier.ingediend")
    assert not EMAIL.accepts_contract("nl.gemeente.brp.persoon-gewijzigd")
