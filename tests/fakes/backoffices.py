"""The demo's back offices, all at once: a ZGW zaaksysteem (Catalogi, Zaken, Documenten), a
StUF-ZDS zaaksysteem, an Objects API and an SMTP server, each the project's fake of that
protocol (tests/fakes), set up for ``deploy/demo/backoffices.yaml``.

Run them for the demo (``make backoffices``; docs in deploy/demo/README.md)::

    python -m tests.fakes.backoffices        # fixed loopback ports; Ctrl-C stops them

It prints what each one stored as it arrives. Tests start them on free ports instead
(``running_backoffices()``) and point the demo config at them (``BackOffices.config_text``).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes import objects_api, stuf_zds, zgw
from tests.fakes.objects_api import FakeObjectsApi, running_objects_api
from tests.fakes.smtp import FakeSmtp, running_smtp
from tests.fakes.stuf_zds import FakeStufZds, running_stuf_zds
from tests.fakes.zgw import FakeZgw, running_zgw

__all__ = [
    "CONFIG",
    "ENVIRON",
    "PORTS",
    "BackOffices",
    "running_backoffices",
]

CONFIG = Path(__file__).parents[2] / "deploy" / "demo" / "backoffices.yaml"
# The ports deploy/demo/backoffices.yaml names (loopback only).
PORTS = {"zgw": 8701, "stuf_zds": 8702, "objects_api": 8703, "smtp": 8725}
# What the demo config's settings name: the zaaktype's informatieobjecttype and the objecttype.
ZAAKTYPE = "EVENEMENTVERGUNNING"
INFORMATIEOBJECTTYPE_ID = "0c0d1c8e-3f6a-4c1e-9a1b-2f2d8f0e1a01"
OBJECTTYPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "referentie": {"type": "string"},
        "formulier": {"type": "string"},
        "evenement": {"type": "string"},
        "bezoekers": {"type": "integer"},
        "knooppuntId": {"type": "string"},
    },
    "required": ["referentie", "knooppuntId"],
    "additionalProperties": False,
}
# The secrets the demo config names, as the fakes expect them (demo values, never real ones).
ENVIRON = {
    "KNOOPPUNT_DEMO_ZGW_SECRET": zgw.SECRET,
    "KNOOPPUNT_DEMO_OBJECTS_TOKEN": objects_api.TOKEN,
}


@dataclass
class BackOffices:
    zgw: FakeZgw
    stuf_zds: FakeStufZds
    objects_api: FakeObjectsApi
    smtp: FakeSmtp
    objecttype: str

    def config_text(self) -> str:
        """deploy/demo/backoffices.yaml with its fixed ports replaced by these fakes' ports."""
        text = CONFIG.read_text(encoding="utf-8")
        actual = {
            "zgw": self.zgw.port,
            "stuf_zds": self.stuf_zds.port,
            "objects_api": self.objects_api.port,
            "smtp": self.smtp.port,
        }
        for name, port in PORTS.items():
            text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{actual[name]}")
            text = text.replace(f"port: {port}", f"port: {actual[name]}")
        return text

    def summary(self) -> list[str]:
        """One line per thing stored, for the demo's console (no personal data)."""
        lines = [
            f"zgw: zaak {z['identificatie']} ({z['omschrijving']})"
            for z in self.zgw.stored("zaken")
        ]
        lines += [f"zgw: rol {r['betrokkeneType']}" for r in self.zgw.stored("rollen")]
        lines += [
            f"zgw: document {d['titel']} ({d['bestandsomvang']} bytes)"
            for d in self.zgw.stored("enkelvoudiginformatieobjecten")
        ]
        lines += [f"stuf-zds: zaak {z['identificatie']}" for z in self.stuf_zds.zaken]
        lines += [
            f"stuf-zds: document {d['titel']} ({len(d['inhoud'])} bytes)"
            for d in self.stuf_zds.documenten
        ]
        lines += [
            f"objects-api: object {o['uuid']} ({o['record']['data'].get('referentie')})"
            for o in self.objects_api.stored()
        ]
        lines += [f'smtp: mail "{m.message["Subject"]}"' for m in self.smtp.arrived()]
        return lines


@contextmanager
def running_backoffices(fixed_ports: bool = False) -> Iterator[BackOffices]:
    """The four back offices, on free loopback ports (or on PORTS), set up for the demo config."""

    def port(name: str) -> int:
        return PORTS[name] if fixed_ports else 0

    with (
        running_zgw(port("zgw")) as zaken,
        running_stuf_zds(port("stuf_zds")) as stuf,
        running_objects_api(port("objects_api")) as objecten,
        running_smtp(tls="none", auth=False, port=port("smtp")) as mail,
    ):
        zaken.add_zaaktype(ZAAKTYPE, informatieobjecttype_id=INFORMATIEOBJECTTYPE_ID)
        stuf.zaaktypen.add(stuf_zds.ZAAKTYPE)
        objecttype = objecten.add_objecttype(OBJECTTYPE_SCHEMA)
        yield BackOffices(zaken, stuf, objecten, mail, objecttype)


def main() -> None:
    if sys.argv[1:] == ["--env"]:  # the secrets the hub needs, for `env $(... --env) knooppunt run`
        print(" ".join(f"{name}={value}" for name, value in ENVIRON.items()))
        return
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    with running_backoffices(fixed_ports=True) as offices:
        print(
            "Back offices for deploy/demo/backoffices.yaml (Ctrl-C stops them):\n"
            f"  ZGW APIs   {offices.zgw.base}  (zaaktype {ZAAKTYPE})\n"
            f"  StUF-ZDS   {offices.stuf_zds.url}\n"
            f"  Objects    {offices.objects_api.objects_api}\n"
            f"  SMTP       {offices.smtp.host}:{offices.smtp.port}\n"
            f"  secrets:   {' '.join(f'{k}={v}' for k, v in ENVIRON.items())}",
            flush=True,
        )
        shown: set[str] = set()
        with contextlib.suppress(KeyboardInterrupt):
            while not stopping:
                for line in offices.summary():
                    if line not in shown:
                        shown.add(line)
                        print(f"  stored: {line}", flush=True)
                time.sleep(0.5)


if __name__ == "__main__":
    main()
