"""The email sink's pure decisions, alone: settings, the rendering of a submission (text and
escaped HTML), which attachments fit, the MIME message, and how SMTP replies classify."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import aiosmtplib
import pytest
from pydantic import ValidationError

from connectors.email.config import EmailConfig, check_address, check_subject
from connectors.email.message import (
    build_message,
    choose_attached,
    message_id_for,
    safe_filename,
)
from connectors.email.render import (
    MailContent,
    RenderedAttachment,
    format_size,
    render_submission,
    value_rows,
)
from connectors.email.replies import (
    NotOfferedError,
    enhanced_code,
    failure_for_exception,
    failure_for_refusals,
    failure_for_reply,
)
from connectors.sdk import Permanent, Retryable, Throttled
from contracts.formulier import v1, v2

BASE = {"host": "smtp.example", "from_address": "hub@example.nl", "to": ["bo@example.nl"]}


def _submission(**changes: Any) -> v2.FormulierIngediend:
    payload = copy.deepcopy(v2.EXAMPLE) | changes
    return v2.FormulierIngediend.model_validate(payload)


def _attachment(size: int, name: str = "a.pdf", url: str = "https://x.example/a") -> v1.Attachment:
    return v1.Attachment(
        url=url, name=name, content_type="application/pdf", size=size, sha256="0" * 64
    )


# Settings


@pytest.mark.parametrize(("tls", "port"), [("none", 25), ("starttls", 587), ("tls", 465)])
def test_the_port_follows_the_tls_mode(tls: str, port: int) -> None:
    assert EmailConfig.model_validate({**BASE, "tls": tls}).server_port == port
    assert EmailConfig.model_validate({**BASE, "tls": tls, "port": 2525}).server_port == 2525


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"username": "u"}, "give both username and password_env"),
        ({"password_env": "P"}, "give both username and password_env"),
        ({"username": "u", "password_env": "P", "tls": "none"}, "password in clear"),
        ({"to": ["bo@example.nl", "BO@example.nl"]}, "listed twice"),
        ({"to": ["bo@example.nl", "no-at-sign"]}, "to[1]"),
        ({"host": "smtp://smtp.example"}, "without scheme or port"),
        ({"host": "smtp.example:25"}, "without scheme or port"),
    ],
)
def test_settings_mistakes_are_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        EmailConfig.model_validate({**BASE, **settings})


@pytest.mark.parametrize(
    "address", ["a@b", "first.last+tag@sub.example.nl", "o'brien@example.ie", "x@[127.0.0.1]"]
)
def test_addresses(address: str) -> None:
    if address.endswith("]"):  # address literals are refused: a back office has a domain
        with pytest.raises(ValueError, match="not an e-mail address"):
            check_address(address)
    else:
        assert check_address(address) == address


@pytest.mark.parametrize(
    "address",
    ["a@b\r\nBcc: x@y", "<a@b>", "a b@c", "a@b c", "a@-b", "é@example.nl", "a..b@c", "a@", "@b"],
)
def test_what_is_no_plain_address_is_refused_without_repeating_it(address: str) -> None:
    with pytest.raises(ValueError, match="not an e-mail address") as caught:
        check_address(address)
    assert address not in str(caught.value)


def test_an_address_longer_than_smtp_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
        check_address("a" * 64 + "@" + "b" * 190 + ".nl")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{values}", "{values} is not a subject field"),
        ("{authentication.bsn}", "is not a subject field"),
        ("{form_name.upper}", "is not a subject field"),
        ("{reference[0]}", "is not a subject field"),
        ("{reference!r}", "takes no conversion or format spec"),
        ("{form_name:>300}", "takes no conversion or format spec"),
        ("{}", "{} is not a subject field"),
        ("Formulier {", "not a valid template"),
    ],
)
def test_subject_templates_name_public_fields_only(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_subject(template)


def test_a_subject_template_with_literal_braces_is_fine() -> None:
    assert check_subject("{{{tenant}}} {form_id}") == "{{{tenant}}} {form_id}"


# Rendering


def test_answers_become_rows_in_the_forms_order() -> None:
    values = {
        "naam": "Jan",
        "adres": {"straat": "Dam", "nummer": 1, "toevoeging": None},
        "dagen": ["ma", "di"],
        "kinderen": [{"naam": "Piet"}, "los"],
        "akkoord": False,
        "bedrag": 12.5,
        "leeg": {},
    }
    assert value_rows(values) == [
        ("naam", "Jan"),
        ("adres.straat", "Dam"),
        ("adres.nummer", "1"),
        ("adres.toevoeging", ""),
        ("dagen", "ma, di"),
        ("kinderen[1].naam", "Piet"),
        ("kinderen[2]", "los"),
        ("akkoord", "nee"),
        ("bedrag", "12.5"),
        ("leeg", ""),
    ]
    assert value_rows({}) == []


def test_control_characters_and_line_ends_are_tamed() -> None:
    assert value_rows({"a\nb": "x\r\ny\rz\x00!"}) == [("a b", "x\ny\nz !")]


def test_everything_from_the_submission_is_escaped_in_the_html() -> None:
    hostile = "<script>alert('x')</script> & \"q\""
    submission = _submission(
        form={"id": "f", "name": hostile},
        reference="R<1>",
        values={hostile: hostile},
        attachments=[
            _attachment(10, name=hostile, url="javascript:alert(1)").model_dump(mode="json")
        ],
    )
    [attachment] = submission.attachments
    content = render_submission(
        submission, "0363", [RenderedAttachment(attachment, attached=False)], "{form_name}"
    )
    assert "<script>" not in content.html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in content.html
    assert "R&lt;1&gt;" in content.html
    assert "href" not in content.html  # a javascript: URL is shown, never a link
    assert "javascript:alert(1)" in content.html
    assert hostile in content.text  # the plain part is plain: nothing to escape there
    assert content.subject == hostile


def test_the_subject_is_one_line_and_holds_no_personal_data() -> None:
    submission = _submission(form={"id": "f", "name": "Melding\r\nBcc: x@y"})
    content = render_submission(submission, "0363", [], "{form_name} {reference} {tenant}")
    assert content.subject == "Melding Bcc: x@y OF-7TZ2QX 0363"
    assert "999993653" not in content.text + content.html  # the example's BSN


def test_the_facts_of_a_submission() -> None:
    submission = _submission(
        authentication={
            "method": "eherkenning",
            "legal_subject": {"type": "kvk", "value": "12345678"},
        },
        payment={"required": True, "completed": False, "amount": "1234.50"},
    )
    text = render_submission(submission, "0363", [], "{reference}").text
    assert text.startswith(
        "Formulier: Parkeervergunning aanvragen\n"
        "Referentie: OF-7TZ2QX\n"
        "Ingediend: 29-11-2026 10:15 (UTC+01:00)\n"
        "Ingelogd met: eHerkenning\n"
        "Betaling: € 1234,50 niet betaald\n"
    )
    assert "12345678" not in text


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1,0 KiB"),
        (183204, "178,9 KiB"),
        (25 << 20, "25,0 MiB"),
    ],
)
def test_sizes_for_people(size: int, shown: str) -> None:
    assert format_size(size) == shown


# Attachments and the MIME message


def test_attachments_fit_smallest_first_within_the_budget() -> None:
    files = [_attachment(600), _attachment(100), _attachment(300), _attachment(50)]
    assert choose_attached(files, 1000) == [False, True, True, True]
    assert choose_attached(files, 1050) == [True, True, True, True]
    assert choose_attached(files, 0) == [False, False, False, False]
    assert choose_attached([], 1000) == []


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jan\\aanvraag.pdf", "aanvraag.pdf"),
        ('a"b<c>|d?.pdf', "a_b_c__d_.pdf"),
        ("tab\there\x00.pdf", "tab_here_.pdf"),
        ("...", "bijlage"),
        ("", "bijlage"),
        ("foto's van de straat.jpg", "foto's van de straat.jpg"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def _wire(message: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_message_without_files_is_the_two_alternatives() -> None:
    message = _wire(
        build_message(
            MailContent("Aanvraag ‘parkeren’ – OF-1", "tekst\n", "<p>html</p>\n"),
            from_address="hub@example.nl",
            to=["a@example.nl", "b@example.nl"],
            message_id=message_id_for("0b6f5a0e-3c1d-4d8e-9f2a-6b7c8d9e0f1a", "hub@example.nl"),
            date=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
        )
    )
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"] == "<0b6f5a0e-3c1d-4d8e-9f2a-6b7c8d9e0f1a@example.nl>"
    assert message["Subject"] == "Aanvraag ‘parkeren’ – OF-1"  # RFC 2047 there and back
    assert "=?utf-8?" in message.as_string().split("\n\n")[0]
    assert message["To"] == "a@example.nl, b@example.nl"
    plain = message.get_body(("plain",))
    assert isinstance(plain, EmailMessage)
    assert plain.get_content().splitlines() == ["tekst"]


# SMTP replies


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (421, Throttled),
        (450, Retryable),
        (451, Retryable),
        (452, Retryable),
        (454, Retryable),
        (499, Retryable),
        (500, Permanent),
        (535, Permanent),
        (550, Permanent),
        (552, Permanent),
        (554, Permanent),
        (354, Retryable),  # not a refusal at all: a confused server, try again
    ],
)
def test_reply_codes_classify(code: int, kind: type) -> None:
    failure = failure_for_reply(code, "RCPT TO", "5.1.1 <jan@example.nl> unknown")
    assert isinstance(failure, kind)
    assert failure.code == str(code)
    assert "jan@example.nl" not in failure.reason


def test_a_reason_names_command_code_meaning_and_enhanced_code() -> None:
    assert failure_for_reply(550, "RCPT TO", "5.1.1 <jan@x> no").reason == (
        "RCPT TO refused: 550 5.1.1 (mailbox unavailable)"
    )
    assert failure_for_reply(451, "DATA", "try later").reason == (
        "DATA refused: 451 (local error in processing)"
    )
    assert enhanced_code("4.7.0 slow down") == "4.7.0"
    assert enhanced_code("4.7.0x") is None
    assert enhanced_code("jan@4.7.0") is None


def test_refused_recipients() -> None:
    progress = {"to[0]": "<id@x>"}
    mixed = failure_for_refusals([(550, "5.1.1"), (450, "4.2.0")], 3, progress)
    permanent = failure_for_refusals([(550, "5.1.1"), (553, "")], 2, progress)
    assert mixed == Retryable(
        "2 of 3 recipients: RCPT TO refused: 450 4.2.0 (mailbox unavailable for now)",
        "450",
        progress=progress,
    )
    assert permanent == Permanent(
        "2 of 2 recipients: RCPT TO refused: 550 5.1.1 (mailbox unavailable)", "550"
    )


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            aiosmtplib.SMTPSenderRefused(553, "5.7.1 <hub@x> not allowed", "hub@x"),
            Permanent("MAIL FROM refused: 553 5.7.1 (mailbox name not allowed)", "553"),
        ),
        (
            aiosmtplib.SMTPAuthenticationError(454, "4.7.0 Temporary authentication failure"),
            Retryable(
                "AUTH refused: 454 4.7.0 (TLS or authentication temporarily unavailable)", "454"
            ),
        ),
        (
            aiosmtplib.SMTPConnectResponseError(421, "4.3.2 Service shutting down"),
            Throttled(
                code="421",
                reason="the connection (greeting) refused: 421 4.3.2 (service not available)",
            ),
        ),
        (
            aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "x", "a@b")]),
            Permanent("1 of 1 recipients: RCPT TO refused: 550 (mailbox unavailable)", "550"),
        ),
        (
            NotOfferedError("AUTH"),
            Permanent("the server does not offer AUTH: check the settings tls and username"),
        ),
        (
            aiosmtplib.SMTPServerDisconnected("Connection lost"),
            Retryable("connection refused, dropped or host unreachable: SMTPServerDisconnected"),
        ),
        (
            aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response"),
            Retryable("timeout after 30 s: SMTPReadTimeoutError"),
        ),
        (TimeoutError(), Retryable("timeout after 30 s: TimeoutError")),
        (RuntimeError("?"), Retryable("SMTP error: RuntimeError")),
    ],
)
def test_what_aiosmtplib_raises_classifies(exc: BaseException, expected: object) -> None:
    assert failure_for_exception(exc, 30.0) == expected
