"""A fake mail server: a real SMTP server (aiosmtpd) on loopback that records what arrives.

It speaks SMTP as RFC 5321 has it, with STARTTLS (RFC 3207) or implicit TLS (RFC 8314) on a
self-signed certificate made for the test (``ca_file`` is what a client must trust), and AUTH
PLAIN/LOGIN (RFC 4954) against one user, refused before TLS. From the test thread it can be
told to refuse: the next MAIL FROM, RCPT TO or DATA gets a reply the test chooses (``"451 4.3.0
Try again later"``), or one recipient is always refused. Every accepted message is recorded
with its envelope, parsed (``email.policy.default``) and raw.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.kafka_under_test import free_port

__all__ = [
    "Arrived",
    "FakeSmtp",
    "SmtpConformanceFake",
    "running_smtp",
    "self_signed_certificate",
]

Stage = Literal["MAIL", "RCPT", "DATA"]
USERNAME = "knooppunt"
PASSWORD = "smtp-test-password"
PASSWORD_ENV = "KNOOPPUNT_SMTP_PASSWORD"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A P-256 key and a certificate for 127.0.0.1 and localhost, valid for a day, written as
    PEM to ``folder``: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-smtp.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass(frozen=True)
class Arrived:
    """One message the server accepted: the envelope, the message, and how the session was."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    tls: bool  # the session was encrypted (STARTTLS or implicit TLS)
    login: str | None  # the AUTH user, None without AUTH


@dataclass
class FakeSmtp:
    """The recording and scripting side of ``running_smtp``; every public method is safe to
    call from the test thread while the server runs."""

    host: str
    port: int
    tls: Literal["none", "starttls", "tls"]
    ca_file: Path
    auth: bool
    _next: dict[str, list[str]] = field(default_factory=dict)
    _refused: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    _arrived: list[Arrived] = field(default_factory=list)
    _replies: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self) -> dict[str, Any]:
        """Email sink settings that point at this server (with AUTH: the password in
        ``PASSWORD_ENV``)."""
        found: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "tls": self.tls,
            "ca_file": str(self.ca_file),
            "timeout_s": 5,
        }
        if self.auth:
            found |= {"username": USERNAME, "password_env": PASSWORD_ENV}
        return found

    def fail_next(self, stage: Stage, reply: str) -> None:
        """The next ``stage`` command (of any session) is answered ``reply``, e.g.
        ``"550 5.1.1 Mailbox unavailable"``; calls queue up."""
        with self._lock:
            self._next.setdefault(stage, []).append(reply)

    def refuse_recipient(self, address: str, reply: str, times: int | None = None) -> None:
        """RCPT TO ``address`` is answered ``reply`` the next ``times`` times (None: always)."""
        with self._lock:
            self._refused[address.lower()] = (reply, times)

    def arrived(self) -> list[Arrived]:
        """Every accepted message so far, in order."""
        with self._lock:
            return list(self._arrived)

    def replies(self) -> list[str]:
        """Every refusal the server gave (MAIL, RCPT, DATA), in order."""
        with self._lock:
            return list(self._replies)

    def effects(self) -> int:
        """Messages a mailbox would show once: accepted messages, one per Message-ID."""
        return len({str(a.message["Message-ID"]) for a in self.arrived()})

    def conformance(self) -> SmtpConformanceFake:
        """This server as the conformance suite's ConformanceFake."""
        return SmtpConformanceFake(self)

    def _scripted(self, stage: Stage, address: str | None = None) -> str | None:
        with self._lock:
            reply = self._refusal(address) if stage == "RCPT" else None
            queued = self._next.get(stage)
            if reply is None and queued:
                reply = queued.pop(0)
            if reply is not None:
                self._replies.append(reply)
            return reply

    def _refusal(self, address: str | None) -> str | None:
        key = (address or "").lower()
        reply, times = self._refused.get(key, (None, None))
        if reply is not None and times is not None:
            if times <= 1:
                del self._refused[key]
            else:
                self._refused[key] = (reply, times - 1)
        return reply

    # aiosmtpd's handler hooks, named by aiosmtpd (called on the server's own thread and loop)

    async def handle_MAIL(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        reply = self._scripted("MAIL")
        if reply is not None:
            return reply
        envelope.mail_from, envelope.mail_options = address, list(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        reply = self._scripted("RCPT", address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        reply = self._scripted("DATA")
        if reply is not None:
            return reply
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        arrived = Arrived(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=message,
            tls=session.ssl is not None,
            login=login,
        )
        with self._lock:
            self._arrived.append(arrived)
        return "250 2.0.0 OK: queued"


@dataclass(frozen=True)
class SmtpConformanceFake:
    """connectors.sdk.conformance.ConformanceFake over a FakeSmtp: a passing failure is ``451``
    to DATA, a refusal ``550`` to RCPT TO; what it made is one mailbox entry per Message-ID."""

    smtp: FakeSmtp

    def settings(self) -> dict[str, Any]:
        return self.smtp.settings()

    def fail_next(self, kind: str) -> None:
        if kind == "retryable":
            self.smtp.fail_next("DATA", "451 4.3.0 Local error, try again later")
        else:
            self.smtp.fail_next("RCPT", "550 5.1.1 Mailbox unavailable")

    def effects(self) -> int:
        return self.smtp.effects()


class _ImplicitTlsSmtp(SMTP):
    """aiosmtpd's SMTP on a socket that is TLS from the first byte: aiosmtpd only counts a
    STARTTLS upgrade as TLS, so the session is marked here (for AUTH and for ``Arrived.tls``)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None and self.session is not None:
            self.session.ssl = {"cipher": transport.get_extra_info("cipher")}
            self._auth_require_tls = False  # it is TLS: AUTH may be offered


class _Controller(Controller):
    def factory(self) -> SMTP:
        if self.ssl_context is None:
            return SMTP(self.handler, **self.SMTP_kwargs)
        return _ImplicitTlsSmtp(self.handler, **self.SMTP_kwargs)


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd answers a failure itself (535 5.7.8 Authentication credentials
    # invalid); True would leave the client waiting for a reply nobody sends.
    return AuthResult(success=good, handled=False, auth_data=data if good else None)


@contextmanager
def running_smtp(
    tls: Literal["none", "starttls", "tls"] = "starttls", auth: bool = True, port: int = 0
) -> Iterator[FakeSmtp]:
    """A FakeSmtp serving on a free loopback port; stopped on exit. ``starttls`` refuses
    anything but EHLO, STARTTLS and QUIT before TLS (``530``); ``auth`` requires AUTH before
    MAIL FROM (``530``) and is only offered over TLS."""
    if auth and tls == "none":
        raise ValueError("the fake offers AUTH only over TLS, as a real server should")
    with tempfile.TemporaryDirectory(prefix="fake-smtp-") as folder:
        cert_file, key_file = self_signed_certificate(Path(folder))
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(cert_file, key_file)
        fake = FakeSmtp("127.0.0.1", port or free_port(), tls, cert_file, auth)
        options: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": fake.port,
            "server_hostname": "fake-smtp.test",
            "ready_timeout": 10,
            "auth_required": auth,
            "auth_require_tls": True,
            "authenticator": _authenticate,
        }
        if tls == "starttls":
            options |= {"tls_context": server_tls, "require_starttls": True}
        if tls == "tls":
            options["ssl_context"] = server_tls
        controller = _Controller(fake, **options)
        server_log = logging.getLogger("mail.log")
        level = server_log.level
        server_log.setLevel(logging.ERROR)  # its INFO lines per command, and a warning per AUTH
        controller.start()
        try:
            yield fake
        finally:
            controller.stop()
            server_log.setLevel(level)
