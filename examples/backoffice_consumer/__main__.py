"""``python -m examples.backoffice_consumer --bootstrap HOST:PORT --topic T --group G
--schemas contracts/schemas [--store events.db]``; stops cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from examples.backoffice_consumer.consumer import ConsumerSettings, run, tenant_of_topic
from examples.backoffice_consumer.events import Schemas
from examples.backoffice_consumer.store import EventStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.backoffice_consumer",
        description="Read a Knooppunt destination topic as a back office does.",
    )
    parser.add_argument("--bootstrap", required=True, help="Kafka brokers, host:port[,...]")
    parser.add_argument("--topic", required=True, help="knooppunt.deliver.<tenant>.<destination>")
    parser.add_argument("--group", required=True, help="this back office's own consumer group")
    parser.add_argument("--schemas", required=True, type=Path, help="contracts/schemas")
    parser.add_argument("--tenant", help="the topic's tenant [read from the topic's name]")
    parser.add_argument("--store", default="backoffice-events.db", help="SQLite file [%(default)s]")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    tenant = args.tenant or tenant_of_topic(args.topic)
    if tenant is None:
        parser.error(f"--tenant is needed: {args.topic!r} is not knooppunt.deliver.<tenant>.<name>")
    try:
        schemas = Schemas(args.schemas)
    except (OSError, ValueError) as exc:
        parser.error(f"--schemas: {exc}")

    stop_requested: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        stop_requested.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    store = EventStore(args.store)
    try:
        run(
            ConsumerSettings(args.bootstrap, args.topic, args.group, tenant),
            schemas,
            store,
            stopping=lambda: bool(stop_requested),
        )
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
