"""How an SMTP server's answer classifies a delivery: pure functions, and the one place where
aiosmtplib's exceptions become outcomes.

| answer (RFC 5321 §4.2) | outcome |
| --- | --- |
| 421 service not available | ``Throttled`` |
| 450, 451, 452, 454 and every other 4xx | ``Retryable`` |
| 5xx | ``Permanent`` |
| no answer: refused or dropped connection, timeout, TLS failure | ``Retryable`` |
| STARTTLS or AUTH not offered by the server | ``Permanent`` |

Why: 421 means the server closes the channel for its own state (shutting down, or too many
connections or messages from us, as large providers use it for rate limits): nothing is wrong
with this message, so it is counted as the back office asking for less. The other 4xx are a
transient condition of this transaction: a mailbox busy or greylisting (450), a local error
(451), storage or too many recipients (452), TLS or AUTH unavailable for now (454, RFC 3207
§4, RFC 4954 §6). A 5xx gives the same answer when sent again: mailbox unavailable (550),
sender not allowed (553), message refused (554), AUTH credentials invalid (535, RFC 4954 §6).
The settings not fitting the server (no STARTTLS, no AUTH offered) is permanent too.

``code`` is the reply code (``"451"``). Reasons name the command that was refused, the code, its
meaning and the enhanced status code (RFC 3463, ``5.1.1``) when the server gave one, never the
server's own text: it often repeats the address it refused.
"""

from __future__ import annotations

import re
import ssl
from typing import TYPE_CHECKING

import aiosmtplib

from connectors.sdk import Permanent, Retryable, Throttled

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from connectors.sdk import Failure

__all__ = [
    "NotOfferedError",
    "enhanced_code",
    "failure_for_exception",
    "failure_for_refusals",
    "failure_for_reply",
]

_MEANINGS = {
    421: "service not available",
    450: "mailbox unavailable for now",
    451: "local error in processing",
    452: "insufficient system storage",
    454: "TLS or authentication temporarily unavailable",
    500: "command not recognised",
    501: "syntax error in parameters",
    502: "command not implemented",
    503: "bad sequence of commands",
    504: "parameter not implemented",
    530: "authentication required",
    534: "authentication mechanism too weak",
    535: "authentication credentials invalid",
    538: "encryption required for this authentication",
    550: "mailbox unavailable",
    551: "user not local",
    552: "exceeded storage allocation",
    553: "mailbox name not allowed",
    554: "transaction failed",
    555: "parameters not recognised",
}
_ENHANCED = re.compile(r"^\s*([245]\.[0-9]{1,3}\.[0-9]{1,3})(?!\S)")


class NotOfferedError(Exception):
    """The server's EHLO does not offer an extension the settings need (``STARTTLS``,
    ``AUTH``): the message names it."""


def enhanced_code(text: str) -> str | None:
    """The enhanced status code (RFC 3463 §2: ``class.subject.detail``) a reply's text starts
    with, or None."""
    match = _ENHANCED.match(text)
    return match.group(1) if match else None


def failure_for_reply(code: int, command: str, text: str = "") -> Failure:
    """The failure of a refusing reply ``code`` to ``command`` (``"RCPT TO"``); ``text`` is the
    reply's text, read only for its enhanced status code."""
    enhanced = enhanced_code(text)
    meaning = _MEANINGS.get(code, "refused")
    reason = f"{command} refused: {code}{f' {enhanced}' if enhanced else ''} ({meaning})"
    if code == 421:
        return Throttled(code="421", reason=reason)
    if 500 <= code < 600:
        return Permanent(reason, code=str(code))
    return Retryable(reason, code=str(code))


def failure_for_refusals(
    refused: Sequence[tuple[int, str]], recipients: int, progress: Mapping[str, str]
) -> Failure:
    """The failure when the server refused ``refused`` (code, text) of ``recipients`` RCPT TO
    commands. A transient refusal among them makes the whole Retryable, carrying ``progress``
    (the recipients that did take it, so that only the others are tried again); otherwise the
    first refusal's failure, its reason counting how many were refused."""
    transient = [(code, text) for code, text in refused if not 500 <= code < 600]
    code, text = (transient or list(refused))[0]
    failure = failure_for_reply(code, "RCPT TO", text)
    count = f"{len(refused)} of {recipients} recipients: "
    if isinstance(failure, Permanent):
        return Permanent(count + failure.reason, failure.code)
    return Retryable(count + failure.reason, failure.code, progress=progress)


def _command(exc: aiosmtplib.SMTPResponseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return "MAIL FROM"
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return "RCPT TO"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return "DATA"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "AUTH"
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return "the connection (greeting)"
    if isinstance(exc, aiosmtplib.SMTPHeloError):
        return "EHLO"
    return "a command"


def failure_for_exception(exc: BaseException, timeout_s: float) -> Failure:
    """What aiosmtplib (or the socket under it) raised, classified as in the module table.
    ``timeout_s`` is the configured timeout, for the reason. A refusal of every recipient
    (SMTPRecipientsRefused) is ``failure_for_refusals``' to classify, with its progress."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = [(r.code, r.message) for r in exc.recipients]
        return failure_for_refusals(refused, len(refused), {})
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return failure_for_reply(exc.code, _command(exc), exc.message)
    if isinstance(exc, NotOfferedError):
        return Permanent(f"the server does not offer {exc}: check the settings tls and username")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return Permanent(
            f"the server does not support what the message needs: {type(exc).__name__}"
        )
    if isinstance(exc, TimeoutError):  # aiosmtplib's SMTPTimeoutError is one too
        return Retryable(f"timeout after {timeout_s:g} s: {type(exc).__name__}")
    if isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError):
        return Retryable(f"TLS handshake failed: {type(exc).__name__}")
    if isinstance(exc, aiosmtplib.SMTPConnectError | ConnectionError | OSError):
        return Retryable(f"connection refused, dropped or host unreachable: {type(exc).__name__}")
    return Retryable(f"SMTP error: {type(exc).__name__}")
