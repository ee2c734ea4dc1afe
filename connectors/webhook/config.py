"""Settings of the ``webhook`` sink (a destination's ``settings:`` in the hub config)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

__all__ = ["WebhookConfig"]

# Set by the sink itself on every request; a static header must not replace them.
_RESERVED = frozenset(
    {
        "content-type",
        "idempotency-key",
        "authorization",
        "traceparent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110)


class WebhookConfig(BaseModel):
    """Where and how the sink POSTs. Secrets are never in the config: ``auth_header_env`` names
    the environment variable that holds the Authorization value, ``signing_secret_env`` the one
    that holds the Standard Webhooks signing secret (connectors/webhook/signature.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl = Field(description="Where each event is POSTed.")
    timeout_s: float = Field(
        10.0, gt=0, le=120, description="Per request, in seconds; a slower answer is retried."
    )
    auth_header_env: str | None = Field(
        None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable whose value is sent verbatim as Authorization.",
    )
    signing_secret_env: str | None = Field(
        None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable holding the Standard Webhooks signing secret "
        "(whsec_ + base64 of 24 to 64 bytes; two separated by a space while rotating): each "
        "request then carries webhook-id, webhook-timestamp and webhook-signature. Checked at "
        "start.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra static headers (not Content-Type, Idempotency-Key, Authorization, "
        "traceparent or the webhook-id, -timestamp and -signature headers, which the sink sets).",
    )

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: HttpUrl) -> HttpUrl:
        if url.username or url.password:
            raise ValueError(
                "no user or password in the url (they would be in the config and the logs); "
                "use auth_header_env"
            )
        return url

    @field_validator("headers")
    @classmethod
    def _static_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        bad_names = sorted(name for name in headers if not _TOKEN.fullmatch(name))
        if bad_names:
            raise ValueError(f"not a valid header name: {', '.join(map(repr, bad_names))}")
        bad_values = sorted(
            name for name, value in headers.items() if "\r" in value or "\n" in value
        )
        if bad_values:
            raise ValueError(
                f"a header value may not contain a line break: {', '.join(bad_values)}"
            )
        taken = sorted(name for name in headers if name.lower() in _RESERVED)
        if taken:
            raise ValueError(f"{', '.join(taken)} is set by the sink itself; remove it")
        return headers
