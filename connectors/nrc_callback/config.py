"""Settings of the ``nrc-callback`` sink (a destination's ``settings:``, or an abonnement)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

__all__ = ["NrcCallbackConfig"]


class NrcCallbackConfig(BaseModel):
    """Where a subscriber wants its notifications, and the Authorization value it expects (the
    abonnement's ``auth``), held in an environment variable: never in the config itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl = Field(description="The subscriber's callbackUrl: each notification is POSTed.")
    auth_header_env: str | None = Field(
        None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable whose value is sent verbatim as Authorization "
        "(the abonnement's auth, e.g. 'Bearer <token>').",
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, description="Per request, in seconds; a slower answer is retried."
    )

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: HttpUrl) -> HttpUrl:
        if url.username or url.password:
            raise ValueError("no user or password in the url; use auth_header_env")
        return url
