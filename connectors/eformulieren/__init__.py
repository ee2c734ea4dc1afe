"""The ``eformulieren`` source: e-forms systems (Open Formulieren and others) submit forms.

A push source: ``POST /api/v<N>/tenants/{tenant}/submissions`` publishes the body as
``nl.gemeente.formulier.ingediend`` version N, and answers 202 only once Kafka acknowledged it.
"""

from __future__ import annotations

from connectors.eformulieren.source import EformulierenConfig, EformulierenSource, build
from connectors.sdk import SourceSpec

__all__ = ["SPEC", "EformulierenConfig", "EformulierenSource"]

SPEC = SourceSpec(
    name="eformulieren",
    config=EformulierenConfig,
    summary="E-forms systems POST submissions (JWT); each becomes a form-submission event.",
    emits=("nl.gemeente.formulier.ingediend",),
    push=build,
)
