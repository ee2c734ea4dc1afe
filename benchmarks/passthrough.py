"""The raw aiokafka pass-through: the floor any router on aiokafka can be compared with.

``python -m benchmarks.passthrough --bootstrap B --source T --to A,B --group G --count N``
consumes ``T`` as member of group ``G`` and writes every record, unchanged (value, key and
headers), to each topic of ``--to`` (fan-out x2 with two), with the hub's producer settings
(acks=all, idempotence, linger 5 ms). Per fetched batch (up to 500 records, as the router) it
awaits every acknowledgement, then commits once. It parses nothing and decides nothing. It exits
after ``N`` records.
"""

from __future__ import annotations

import argparse
import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

__all__ = ["arguments", "main", "pass_through"]

BATCH = 500  # the router's batch size (hub.routing.router.BATCH_SIZE)


async def pass_through(bootstrap: str, source: str, to: list[str], group: str, count: int) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=BATCH,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await consumer.start()
    await producer.start()
    done = 0
    try:
        while done < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=BATCH)
            acks = [
                await producer.send(
                    topic, record.value, key=record.key, headers=list(record.headers)
                )
                for records in batches.values()
                for record in records
                for topic in to
            ]
            await asyncio.gather(*acks)
            await consumer.commit()
            done += sum(len(records) for records in batches.values())
    finally:
        await producer.stop()
        await consumer.stop()


def arguments(description: str) -> argparse.Namespace:
    """The command line every pass-through loop takes (this one and its librdkafka twin)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--to", required=True, help="comma-separated output topics")
    parser.add_argument("--group", required=True)
    parser.add_argument("--count", type=int, required=True)
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    asyncio.run(
        pass_through(args.bootstrap, args.source, args.to.split(","), args.group, args.count)
    )


if __name__ == "__main__":
    main()
