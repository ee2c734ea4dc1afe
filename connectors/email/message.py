"""The MIME message: which attachments fit, and the headers and parts around the rendered body.
Pure functions (the sink reads the bytes and sends).

Shape (RFC 2045/2046, built with the standard library's ``email.message.EmailMessage``)::

    multipart/mixed
      multipart/alternative          RFC 2046 §5.1.4: the same content, plainest first
        text/plain; charset=utf-8    quoted-printable
        text/html; charset=utf-8     quoted-printable
      <type>/<subtype>; name=...     one per attached file, base64, Content-Disposition:
                                     attachment; filename=... (RFC 2183, RFC 2231 for non-ASCII)

Without attached files the message is the multipart/alternative alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from connectors.email.render import MailContent
    from contracts.formulier.v1 import Attachment

__all__ = ["File", "build_message", "choose_attached", "message_id_for", "safe_filename"]

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\"\\/:*?<>|]")
_MAX_NAME = 150  # characters; RFC 2231 continuations make longer ones legal, but not readable


@dataclass(frozen=True)
class File:
    """An attachment's bytes as they go into the message."""

    name: str
    content_type: str
    content: bytes


def choose_attached(attachments: Sequence[Attachment], budget_bytes: int) -> list[bool]:
    """Per attachment (in the given order), whether it is attached: smallest first while their
    declared ``size`` adds up to at most ``budget_bytes``; the others are linked. Base64 makes an
    attached file a third larger on the wire."""
    attached = [False] * len(attachments)
    total = 0
    for index in sorted(range(len(attachments)), key=lambda i: attachments[i].size):
        size = attachments[index].size
        if total + size > budget_bytes:
            break
        attached[index], total = True, total + size
    return attached


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """``<idempotency-key@from-domain>`` (RFC 5322 §3.6.4): the same on every attempt and replay
    of one event to one destination, so that a mail client or a back office's script can
    recognise a redelivery as the message it already has."""
    return f"<{idempotency_key}@{from_address.rpartition('@')[2]}>"


def safe_filename(name: str) -> str:
    """A submitter's file name fit for Content-Disposition: no directories, control characters
    or characters that file systems refuse; at most _MAX_NAME characters, keeping the
    extension; ``bijlage`` when nothing is left."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = " ".join(_UNSAFE_NAME.sub("_", base).split()).strip(". ")
    if len(cleaned) > _MAX_NAME:
        _, dot, extension = cleaned.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        cleaned = cleaned[: _MAX_NAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return cleaned or "bijlage"


def build_message(
    content: MailContent,
    *,
    from_address: str,
    to: Sequence[str],
    message_id: str,
    date: datetime,
    files: Sequence[File] = (),
) -> EmailMessage:
    """The message, headers per RFC 5322 §3.6: From, To, Subject (RFC 2047-encoded where not
    ASCII), Date (``date``, aware), Message-ID, and ``Auto-Submitted: auto-generated`` (RFC 3834
    §5: no out-of-office replies to it). Lines end in CRLF (``email.policy.SMTP``)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(addr_spec=from_address)
    message["To"] = [Address(addr_spec=address) for address in to]
    message["Subject"] = content.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(content.text, cte="quoted-printable")
    message.add_alternative(content.html, subtype="html", cte="quoted-printable")
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(
            file.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=safe_filename(file.name),
        )
    return message
