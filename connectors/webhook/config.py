"""Settings of the ``webhook`` sink (a destination's ``settings:`` in the hub config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

__all__ = ["WebhookConfig"]

_RESERVED = {"content-type", "idempotency-key", "authorization"}


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl = Field(description="Where each event is POSTed.")
    timeout_s: float = Field(10.0, gt=0, le=120, description="Per request; slower is a retry.")
    auth_header_env: str | None = Field(
        None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable whose value is sent as the Authorization header.",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra static headers.")

    @field_validator("headers")
    @classmethod
    def _no_reserved(cls, headers: dict[str, str]) -> dict[str, str]:
        taken = sorted(name for name in headers if name.lower() in _RESERVED)
        if taken:
            raise ValueError(f"{', '.join(taken)} is set by the sink itself")
        return headers
