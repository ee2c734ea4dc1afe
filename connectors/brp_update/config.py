"""Settings of the BRP Update API connectors (a tenant's ``sources:`` or ``destinations:``)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from connectors.sdk import HttpAuth, NoAuth

__all__ = ["BrpUpdateApi", "VolgindicatiesConfig", "WijzigingenConfig"]

_A_YEAR = timedelta(days=366)


class BrpUpdateApi(BaseModel):
    """Where the tenant's Haal Centraal BRP Update API is and how to call it.

    Gateway headers as the BRP API gateways ask: ``x-doelbinding`` and ``x-verwerking`` from
    here, ``x-origin-oin`` the tenant's OIN. Secrets are never in the config: ``auth`` names
    the environment variable (an API key as ``header`` ``X-API-KEY``, or OAuth2 client
    credentials).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl = Field(
        description="The API's base URL, e.g. https://gateway.example/haalcentraal/api/brpupdate."
    )
    auth: HttpAuth = Field(default_factory=NoAuth, description="How to authenticate.")
    doelbinding: str | None = Field(
        None, min_length=1, max_length=200, description="Sent as x-doelbinding (the purpose)."
    )
    verwerking: str | None = Field(
        None, min_length=1, max_length=200, description="Sent as x-verwerking (the processing)."
    )
    timeout_s: float = Field(10.0, gt=0, le=60, description="Per request, in seconds.")

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: HttpUrl) -> HttpUrl:
        if url.username or url.password:
            raise ValueError("no user or password in the url; use auth")
        return url

    def base(self) -> str:
        """The base URL without a trailing slash."""
        return str(self.url).rstrip("/")


class WijzigingenConfig(BrpUpdateApi):
    """The ``brp-wijzigingen`` poller: which followed persons changed, one event per person and
    day of their last change, once that day is over."""

    interval_s: float = Field(
        900, ge=1, le=86_400, description="Seconds between two looks for a finished day."
    )
    settle_s: float = Field(
        3600,
        ge=0,
        le=43_200,
        description="A day counts as finished this long after its midnight (Dutch time), so a "
        "change registered just before midnight has reached the API.",
    )
    start_date: date | None = Field(
        None,
        description="The first day to report when the poller has no checkpoint yet (its first "
        "run); default: the day it first runs. Later runs go on from the checkpoint.",
    )

    @field_validator("start_date")
    @classmethod
    def _a_year_around_today(cls, start: date | None) -> date | None:
        today = date.today()
        if start is not None and not today - _A_YEAR <= start <= today + _A_YEAR:
            raise ValueError(
                f"within a year of today ({today - _A_YEAR} to {today + _A_YEAR}): the API "
                "keeps no changes from before a person was followed"
            )
        return start

    max_days: int = Field(
        31, ge=1, le=366, description="Days one poll reports at most, when catching up."
    )


class VolgindicatiesConfig(BrpUpdateApi):
    """The ``brp-volgindicaties`` sink: follow the person of each submission routed to it."""

    dagen: int | None = Field(
        365,
        ge=1,
        le=3653,
        description="Follow for this many days after the submission (the volgindicatie's "
        "einddatum); null: without einddatum.",
    )
