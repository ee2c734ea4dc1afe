"""The BRP Update API connectors (Haal Centraal BRP Update API 1.0): follow persons, and hear
which of them changed.

- ``brp-volgindicaties`` (sink): for each form submission routed to it, follow its citizen
  (``PUT /volgindicaties/{bsn}``) for a number of days.
- ``brp-wijzigingen`` (polling source): once a day is over, a
  ``nl.gemeente.brp.persoon-gewijzigd`` event per followed person whose last change fell on it
  (``GET /wijzigingen?vanaf=``).
"""

from __future__ import annotations

from connectors.brp_update import sink, source
from connectors.brp_update.config import VolgindicatiesConfig, WijzigingenConfig
from connectors.sdk import SinkSpec, SourceSpec

__all__ = ["VOLGINDICATIES", "WIJZIGINGEN"]

_API = {
    "url": "https://gateway.example/haalcentraal/api/brpupdate",
    "auth": {"type": "header", "header": "X-API-KEY", "value_env": "KNOOPPUNT_0363_BRP_KEY"},
    "doelbinding": "BRPACT-Gemeentetaken",
}

WIJZIGINGEN = SourceSpec(
    name="brp-wijzigingen",
    config=WijzigingenConfig,
    summary="Polls the BRP Update API; a person-changed event per followed person and day.",
    emits=("nl.gemeente.brp.persoon-gewijzigd",),
    poll=source.build,
    example={**_API, "interval_s": 900, "settle_s": 3600},
)

VOLGINDICATIES = SinkSpec(
    name="brp-volgindicaties",
    config=VolgindicatiesConfig,
    summary="Follows the citizen of each submission in the BRP Update API (volgindicatie).",
    accepts=("nl.gemeente.formulier.ingediend",),
    build=sink.build,
    example={**_API, "dagen": 365},
)
