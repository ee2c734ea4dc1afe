"""The ``objects-api`` sink: each form submission as an object of one objecttype in an Objects
API (Open Objecten), with a declarative mapping from the submission to the object's data."""

from __future__ import annotations

from connectors.objects_api.config import ObjectsApiConfig
from connectors.objects_api.sink import ObjectsApiSink, build
from connectors.sdk import SinkSpec

__all__ = ["SPEC", "ObjectsApiConfig", "ObjectsApiSink"]

SPEC = SinkSpec(
    name="objects-api",
    config=ObjectsApiConfig,
    summary="Creates an object of one objecttype per form submission in an Objects API (Open "
    "Objecten), its data mapped from the submission and checked against the objecttype's "
    "JSON Schema; looked up first, so a redelivery makes no second object.",
    accepts=("nl.gemeente.formulier.ingediend",),
    build=build,
    example={
        "objects_api": "https://objecten.gemeente.example/api/v2",
        "objecttype": "https://objecttypen.gemeente.example/api/v2/objecttypes/"
        "8e3b3b2c-5f3c-4f0e-9c39-2f1b0c1d2e3f",
        "objecttype_version": 1,
        "token_env": "KNOOPPUNT_OBJECTS_API_TOKEN",
        "data": {
            "kenteken": "values.kenteken",
            "referentie": "reference",
            "formulier": "form.id",
            "bron": {"constant": "knooppunt"},
        },
        "idempotency_field": "knooppuntId",
    },
)
