"""The ``stuf-zds`` sink: each form submission as a zaak with its initiator and documents in a
zaaksysteem that speaks StUF-ZDS 1.2 (Zaak- en Documentservices) over SOAP 1.1."""

from __future__ import annotations

from connectors.sdk import SinkSpec
from connectors.stuf_zds.config import StufZdsConfig
from connectors.stuf_zds.sink import StufZdsSink, build

__all__ = ["SPEC", "StufZdsConfig", "StufZdsSink"]

SPEC = SinkSpec(
    name="stuf-zds",
    config=StufZdsConfig,
    summary="Creates a zaak with its initiator and one document per attachment (and one with "
    "the submission's data) in a zaaksysteem over StUF-ZDS 1.2 (SOAP 1.1): "
    "genereerZaakIdentificatie, creeerZaak, genereerDocumentIdentificatie, "
    "voegZaakdocumentToe; each step done kept, so a redelivery makes nothing twice.",
    accepts=("nl.gemeente.formulier.ingediend",),
    build=build,
    example={
        "endpoints": {"url": "https://zaken.gemeente.example/zds/services"},
        "zender": {"organisatie": "0363", "applicatie": "KNOOPPUNT"},
        "ontvanger": {"organisatie": "0363", "applicatie": "ZAAKSYSTEEM"},
        "tls": {
            "cert_file": "/etc/knooppunt/pki/knooppunt.crt",
            "key_file": "/etc/knooppunt/pki/knooppunt.key",
        },
        "zaaktype_code": "B1026",
        "documenttype": "Aanvraag",
        "bijlage_documenttype": "Bijlage",
        "vertrouwelijkheid": "ZAAKVERTROUWELIJK",
    },
)
