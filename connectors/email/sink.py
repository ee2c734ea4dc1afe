"""The ``email`` sink: each submission as one readable e-mail to a back office's mailbox, over
SMTP (RFC 5321) with aiosmtplib. The I/O is here; what the message says (render.py), its MIME
shape (message.py) and how a reply classifies (replies.py) are pure."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import socket
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING

import aiosmtplib
import certifi

from connectors.email.message import File, build_message, choose_attached, message_id_for
from connectors.email.render import RenderedAttachment, render_submission
from connectors.email.replies import (
    NotOfferedError,
    failure_for_exception,
    failure_for_refusals,
)
from connectors.sdk import Delivered, Health, Permanent, Retryable, SecretMissingError
from contracts.errors import ContractError, KnooppuntError
from contracts.events import read_as
from contracts.formulier import v2
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.email.config import EmailConfig
    from connectors.sdk import ConnectorContext, Delivery, Failure, Outcome
    from contracts.formulier.v1 import Attachment

__all__ = ["EmailSink", "build"]

SUBMISSION = contract_for("nl.gemeente.formulier.ingediend", 2)  # v1 events are upcast to it


def _recipient_step(index: int) -> str:
    """The progress key of ``to[index]``: recipients by place, never by address."""
    return f"to[{index}]"


class EmailSink:
    """A ``Sink`` that mails each submission once to ``config.to``: one SMTP connection per
    delivery (TLS and AUTH as configured), closed after it. Up to 4 at once: a small back
    office's mail server limits connections per client.

    ``deliver`` returns ``Delivered({"message_id": ...})`` once the server took the message for
    every recipient; otherwise the failure classified by connectors.email.replies. A recipient
    that took it is kept in ``Retryable.progress`` (``to[<index>]``), so a retry writes only to
    the others. It never retries or sleeps, and logs nothing: not an address, not an answer.
    """

    max_in_flight = 4

    def __init__(self, config: EmailConfig, context: ConnectorContext) -> None:
        self.config = config
        self._context = context
        self._where = f"tenant {context.tenant.id}, destination {context.destination}"
        self._tls: ssl.SSLContext | None = None
        self._helo: str | None = None

    async def open(self) -> None:
        """Check the password's variable and read the CA file, so that a mistake stops the
        start: SecretMissingError or KnooppuntError, naming tenant, destination and setting."""
        env = self.config.password_env
        if env is not None:
            try:
                self._context.secrets.get(env)
            except SecretMissingError as exc:
                raise SecretMissingError(f"{self._where}: password_env: {exc}") from None
        try:
            self._tls_context()
        except (OSError, ssl.SSLError) as exc:
            raise KnooppuntError(
                f"{self._where}: ca_file: cannot read {self.config.ca_file} as PEM: "
                f"{type(exc).__name__}"
            ) from exc
        self._helo = await asyncio.to_thread(socket.getfqdn)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            ca_file = self.config.ca_file
            self._tls = ssl.create_default_context(
                cafile=str(ca_file) if ca_file else certifi.where()
            )
        return self._tls

    def _client(self) -> aiosmtplib.SMTP:
        """An unconnected client; STARTTLS and AUTH are ``_start``'s, step by step."""
        config = self.config
        return aiosmtplib.SMTP(
            hostname=config.host,
            port=config.server_port,
            use_tls=config.tls == "tls",
            start_tls=False,
            tls_context=None if config.tls == "none" else self._tls_context(),
            timeout=config.timeout_s,
            local_hostname=self._helo,
        )

    def _password(self) -> str | None:
        """The AUTH password; SecretMissingError when its variable is unset."""
        env = self.config.password_env
        return self._context.secrets.get(env) if env else None

    async def _start(self, client: aiosmtplib.SMTP, password: str | None) -> None:
        """Connect, STARTTLS (RFC 3207) and AUTH (RFC 4954) as configured. NotOfferedError when
        the server's EHLO lacks what the settings need: then nothing is sent in clear."""
        await client.connect()
        if self.config.tls == "starttls":
            await client.ehlo()
            if not client.supports_extension("starttls"):
                raise NotOfferedError("STARTTLS")
            await client.starttls()
        if self.config.username is not None and password is not None:
            if client.is_ehlo_or_helo_needed:
                await client.ehlo()
            if not client.supports_extension("auth"):
                raise NotOfferedError("AUTH")
            await client.login(self.config.username, password)

    async def _content(self, attachment: Attachment) -> bytes:
        """The attachment's bytes: inline, else from the hub's store. LookupError when the hub
        has none, ValueError when they do not match the sha256."""
        if attachment.inline_base64 is None:
            return await self._context.read_attachment(str(attachment.url), attachment.sha256)
        try:
            content = base64.b64decode(attachment.inline_base64, validate=True)
        except binascii.Error as exc:
            raise ValueError("inline content is not base64") from exc
        if hashlib.sha256(content).hexdigest() != attachment.sha256:
            raise ValueError("inline content does not match its sha256")
        return content

    async def _files(
        self, submission: v2.FormulierIngediend
    ) -> tuple[list[File], list[RenderedAttachment]] | Failure:
        """The files to attach and how each attachment is mentioned. One the hub does not have
        (another system's URL, or past its retention) is linked instead of attached."""
        files: list[File] = []
        mentioned: list[RenderedAttachment] = []
        wanted = choose_attached(submission.attachments, self.config.attach_max_bytes)
        pairs = zip(submission.attachments, wanted, strict=True)
        for number, (attachment, attach) in enumerate(pairs, 1):
            content = None
            try:
                content = await self._content(attachment) if attach else None
            except LookupError:
                content = None
            except ValueError:
                return Permanent(f"attachment {number} does not match its sha256 or is damaged")
            except Exception as exc:  # the hub's store (a folder, S3) did not answer
                return Retryable(f"attachment store unavailable: {type(exc).__name__}")
            if content is not None:
                files.append(File(attachment.name, attachment.content_type, content))
            mentioned.append(RenderedAttachment(attachment, content is not None))
        return files, mentioned

    async def _message(self, delivery: Delivery, message_id: str) -> EmailMessage | Failure:
        try:
            submission = read_as(delivery.event, SUBMISSION)
        except ContractError as exc:
            return Permanent(f"cannot read the submission: {exc.field or 'payload'} is invalid")
        assert isinstance(submission, v2.FormulierIngediend)  # what SUBMISSION's model reads
        found = await self._files(submission)
        if not isinstance(found, tuple):
            return found
        files, mentioned = found
        content = render_submission(submission, delivery.tenant, mentioned, self.config.subject)
        return build_message(
            content,
            from_address=self.config.from_address,
            to=self.config.to,
            message_id=message_id,
            date=delivery.event.time,
            files=files,
        )

    async def deliver(self, delivery: Delivery) -> Outcome:
        message_id = message_id_for(delivery.idempotency_key, self.config.from_address)
        remaining = [
            (index, address)
            for index, address in enumerate(self.config.to)
            if _recipient_step(index) not in delivery.progress
        ]
        if not remaining:  # an earlier attempt reached everyone
            return Delivered({"message_id": message_id})
        message = await self._message(delivery, message_id)
        if not isinstance(message, EmailMessage):
            return message
        return await self._send(message, message_id, remaining, delivery)

    async def _send(
        self,
        message: EmailMessage,
        message_id: str,
        remaining: list[tuple[int, str]],
        delivery: Delivery,
    ) -> Outcome:
        try:
            password = self._password()
        except SecretMissingError as exc:
            return Permanent(f"{exc} (password_env)")
        try:
            client = self._client()
            async with asyncio.timeout(3 * self.config.timeout_s):
                try:
                    await self._start(client, password)
                    refused, _ = await client.send_message(
                        message,
                        sender=self.config.from_address,
                        recipients=[address for _, address in remaining],
                    )
                finally:
                    await _quit(client)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            answers = [(r.code, r.message) for r in exc.recipients]
            return failure_for_refusals(answers, len(remaining), delivery.progress)
        except Exception as exc:  # aiosmtplib's and the socket's, classified at one place
            return failure_for_exception(exc, self.config.timeout_s)
        done = dict(delivery.progress) | {
            _recipient_step(index): "sent"  # short: 50 recipients stay far within 4 KiB
            for index, address in remaining
            if address not in refused
        }
        if refused:
            answers = [(r.code, r.message) for r in refused.values()]
            return failure_for_refusals(answers, len(remaining), done)
        return Delivered({"message_id": message_id})

    async def check(self) -> Health:
        """Connect (TLS, AUTH as configured), NOOP, QUIT: whether the server takes us now."""
        where = f"{self.config.host}:{self.config.server_port}"
        try:
            password = self._password()
            client = self._client()
            async with asyncio.timeout(3 * self.config.timeout_s):
                try:
                    await self._start(client, password)
                    await client.noop()
                finally:
                    await _quit(client)
        except SecretMissingError as exc:
            return Health(ok=False, detail=f"{exc} (password_env)")
        except Exception as exc:
            failure = failure_for_exception(exc, self.config.timeout_s)
            return Health(ok=False, detail=f"{where}: {failure.reason}")
        return Health(ok=True, detail=f"{where} answered")

    async def close(self) -> None:
        """Nothing is kept open between deliveries."""


async def _quit(client: aiosmtplib.SMTP) -> None:
    """QUIT politely; a server that already hung up (after a 421) is closed."""
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


def build(config: EmailConfig, context: ConnectorContext) -> EmailSink:
    """The factory named in the connector's SPEC."""
    return EmailSink(config, context)
