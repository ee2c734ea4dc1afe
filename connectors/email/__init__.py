"""The ``email`` sink: each form submission as a readable e-mail to a back office's mailbox."""

from __future__ import annotations

from connectors.email.config import EmailConfig
from connectors.email.sink import EmailSink, build
from connectors.sdk import SinkSpec

__all__ = ["SPEC", "EmailConfig", "EmailSink"]

SPEC = SinkSpec(
    name="email",
    config=EmailConfig,
    summary="Mails each form submission (answers as a table, text and HTML, attachments "
    "attached or linked) over SMTP with STARTTLS or TLS and AUTH.",
    accepts=("nl.gemeente.formulier.ingediend",),
    build=build,
    example={
        "host": "smtp.gemeente.example",
        "port": 587,
        "tls": "starttls",
        "username": "knooppunt",
        "password_env": "KNOOPPUNT_SMTP_PASSWORD",
        "from_address": "knooppunt@gemeente.example",
        "to": ["vergunningen@gemeente.example"],
        "subject": "Formulier ingediend: {form_name} ({reference})",
    },
)
