"""Settings of the ``email`` sink (a destination's ``settings:`` in the hub config)."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["SUBJECT_FIELDS", "EmailConfig", "TlsMode", "check_address", "check_subject"]

# How the connection is protected: "none" (plain SMTP, port 25), "starttls" (plain, then upgraded
# before anything else is said, RFC 3207; port 587) or "tls" (TLS from the first byte, "implicit
# TLS", RFC 8314 §3.3; port 465).
TlsMode = Literal["none", "starttls", "tls"]

# The names a subject template may use: public facts about the submission, never personal data.
SUBJECT_FIELDS = frozenset({"form_name", "form_id", "reference", "tenant"})
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}  # RFC 5321 §4.5.4.2, 6409, 8314 §7.3
MiB = 1024 * 1024

# An address as RFC 5321 §4.1.2 lets a Mailbox be, ASCII only: a dot-atom local part (RFC 5322
# §3.2.3) and a domain of LDH labels. Quoted local parts and address literals are refused:
# a back office's mailbox does not need them, and every header built from them stays simple.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*$")
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$|^[0-9.]+$|^\[[0-9A-Fa-f:.]+\]$")


def check_address(address: str) -> str:
    """``address`` when it is a plain mailbox ``local@domain`` (at most 254 characters, RFC 5321
    §4.5.3.1); ValueError otherwise. The message never repeats the address."""
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise ValueError("not an e-mail address of the form local-part@domain (ASCII)")
    return address


def check_subject(template: str) -> str:
    """``template`` when its only replacement fields are plain names from SUBJECT_FIELDS
    (``{form_name}``; ``{{`` for a brace), without attribute, index, conversion or format spec;
    ValueError naming what is wrong otherwise."""
    try:
        fields = [parsed[1:] for parsed in string.Formatter().parse(template)]
    except ValueError as exc:
        raise ValueError(f"not a valid template: {exc}") from exc
    for name, spec, conversion in fields:
        if name is None:
            continue
        if name not in SUBJECT_FIELDS:
            allowed = ", ".join(f"{{{n}}}" for n in sorted(SUBJECT_FIELDS))
            raise ValueError(f"{{{name}}} is not a subject field; use {allowed}")
        if spec or conversion:
            raise ValueError(f"{{{name}}} takes no conversion or format spec")
    return template


class EmailConfig(BaseModel):
    """Where the sink sends its mail and to whom. Secrets are never in the config:
    ``password_env`` names the environment variable that holds the SMTP password."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(
        min_length=1, max_length=253, description="The SMTP server's host name or IP address."
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="TCP port; default by tls: 25 (none), 587 (starttls), 465 (tls).",
    )
    tls: TlsMode = Field(
        "starttls",
        description="none, starttls (upgrade before anything is said; refused if the server "
        "cannot) or tls (implicit TLS). The server's certificate is always verified.",
    )
    ca_file: Path | None = Field(
        None,
        description="PEM file with the CA(s) to verify the server with, instead of the "
        "public ones (a municipality's own CA).",
    )
    username: str | None = Field(
        None, min_length=1, max_length=256, description="SMTP AUTH user name (RFC 4954)."
    )
    password_env: str | None = Field(
        None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the SMTP AUTH password; checked at start.",
    )
    from_address: str = Field(description="The From address (RFC 5322 §3.6.2), and MAIL FROM.")
    to: list[str] = Field(
        min_length=1, max_length=50, description="Recipient addresses (To, and RCPT TO)."
    )
    subject: str = Field(
        "Formulier ingediend: {form_name} ({reference})",
        min_length=1,
        max_length=200,
        description="Subject template; fields {form_name}, {form_id}, {reference}, {tenant}.",
    )
    attach_max_bytes: int = Field(
        10 * MiB,
        ge=0,
        le=50 * MiB,
        description="Attachments are attached, smallest first, while their total stays within "
        "this many bytes; the others are linked (0: link every one).",
    )
    timeout_s: float = Field(
        30.0,
        gt=0,
        le=300,
        description="Per SMTP reply, in seconds; the whole delivery at most three times that.",
    )

    @field_validator("host")
    @classmethod
    def _host_name(cls, host: str) -> str:
        if not _HOST.fullmatch(host):
            raise ValueError("a host name or IP address, without scheme or port")
        return host

    @field_validator("from_address")
    @classmethod
    def _from_address(cls, address: str) -> str:
        return check_address(address)

    @field_validator("to")
    @classmethod
    def _recipients(cls, addresses: list[str]) -> list[str]:
        for index, address in enumerate(addresses):
            try:
                check_address(address)
            except ValueError as exc:
                raise ValueError(f"to[{index}]: {exc}") from None
        if len({a.lower() for a in addresses}) != len(addresses):
            raise ValueError("an address is listed twice")
        return addresses

    @field_validator("subject")
    @classmethod
    def _subject(cls, template: str) -> str:
        return check_subject(template)

    @model_validator(mode="after")
    def _auth_needs_both_and_tls(self) -> EmailConfig:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("give both username and password_env, or neither")
        if self.username is not None and self.tls == "none":
            raise ValueError(
                "AUTH over tls: none would send the password in clear; use starttls or tls"
            )
        return self

    @property
    def server_port(self) -> int:
        """``port``, or the default of the tls mode."""
        return self.port or DEFAULT_PORTS[self.tls]
