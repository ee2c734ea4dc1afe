"""Settings of the ``notifynl`` sink (a destination's ``settings:`` in the hub config)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from connectors.sdk import SecretName

__all__ = ["NOTIFY_RATE_LIMIT_PER_MINUTE", "NotifyNlConfig", "TemplateIds"]

# GOV.UK Notify's API rate limit: 3,000 requests per 60 seconds per service and key type
# (docs.notifications.service.gov.uk, "API rate limits"); NotifyNL runs the same code.
NOTIFY_RATE_LIMIT_PER_MINUTE = 3000


class TemplateIds(BaseModel):
    """The Notify templates of one message, by kanaal (a Notify template is of one type)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: UUID | None = Field(None, description="Id of the Notify email template.")
    sms: UUID | None = Field(None, description="Id of the Notify text message template.")


class NotifyNlConfig(BaseModel):
    """Where and how the sink sends. Secrets are never in the config: ``api_key_env`` names the
    environment variable that holds the Notify API key (``{key_name}-{service_id}-{secret}``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl = Field(
        "https://api.notifynl.nl",  # a string, validated (validate_default)
        validate_default=True,
        description="Base URL of the Notify API (NotifyNL's, or another GOV.UK Notify "
        "compatible instance); /v2/notifications/... is appended.",
    )
    api_key_env: SecretName = Field(
        description="Environment variable holding the API key, {key_name}-{service_id}-"
        "{secret} as Notify shows it. Read per delivery; checked at start."
    )
    templates: dict[str, TemplateIds] = Field(
        default_factory=dict,
        description="The event's template_id (a name such as ontvangstbevestiging) -> the "
        "Notify template ids per kanaal (email, sms).",
    )
    event_template_ids: bool = Field(
        False,
        description="Also send an event whose template_id is itself a Notify template id "
        "(a UUID) not named in templates. Off: only templates named here are sent.",
    )
    email_reply_to_id: UUID | None = Field(
        None, description="Notify's email_reply_to_id (a reply-to address of the service)."
    )
    sms_sender_id: UUID | None = Field(
        None, description="Notify's sms_sender_id (a text message sender of the service)."
    )
    rate_limit_per_minute: int = Field(
        NOTIFY_RATE_LIMIT_PER_MINUTE,
        ge=1,
        le=100_000,
        description="Messages sent per API key in any 60 seconds, counted in this process "
        "over every destination using the key; beyond it a delivery is Throttled without "
        "asking Notify. Notify's own limit is 3,000.",
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, description="Per request, in seconds; a slower answer is retried."
    )

    @field_validator("base_url")
    @classmethod
    def _no_credentials(cls, url: HttpUrl) -> HttpUrl:
        if url.username or url.password or url.query or url.fragment:
            raise ValueError("a base URL without user, password, query or fragment")
        return url

    @field_validator("templates")
    @classmethod
    def _named_templates(cls, templates: dict[str, TemplateIds]) -> dict[str, TemplateIds]:
        for name, ids in templates.items():
            if not 1 <= len(name) <= 100:
                raise ValueError("a template name is 1 to 100 characters (as the contract's)")
            if ids.email is None and ids.sms is None:
                raise ValueError(f"template {name!r}: give an email or an sms template id")
        return templates
