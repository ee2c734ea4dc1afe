"""The ``zgw`` sink: each form submission as a zaak, its initiator rol and its attachments as
documents in a zaaksysteem's ZGW APIs (Catalogi, Zaken, Documenten), looked up before each
create so a redelivery makes nothing twice."""

from __future__ import annotations

from connectors.sdk import SinkSpec
from connectors.zgw.config import ZgwConfig
from connectors.zgw.sink import ZgwSink, build

__all__ = ["SPEC", "ZgwConfig", "ZgwSink"]

SPEC = SinkSpec(
    name="zgw",
    config=ZgwConfig,
    summary="Creates a zaak with its initiator rol and one document per attachment in a "
    "zaaksysteem's ZGW APIs (Open Zaak, OneGround); each step looked up first, so a "
    "redelivery makes nothing twice.",
    accepts=("nl.gemeente.formulier.ingediend",),
    build=build,
    example={
        "zaken_api": "https://zaken.gemeente.example/zaken/api/v1",
        "catalogi_api": "https://zaken.gemeente.example/catalogi/api/v1",
        "documenten_api": "https://zaken.gemeente.example/documenten/api/v1",
        "auth": {
            "type": "zgw-jwt",
            "client_id": "knooppunt",
            "secret_env": "KNOOPPUNT_ZGW_SECRET",
        },
        "zaaktype": "PARKEERVERGUNNING",
        "informatieobjecttype": "https://zaken.gemeente.example/catalogi/api/v1/"
        "informatieobjecttypen/4d5b4a32-1c9e-4a38-9f53-2a0d61f0d7a1",
    },
)
