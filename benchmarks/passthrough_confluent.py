"""The raw pass-through on confluent-kafka (librdkafka), for information beside the aiokafka one.

``python -m benchmarks.passthrough_confluent`` takes the arguments of ``benchmarks.passthrough``
and does the same: per fetched batch (up to 500 records) every record, unchanged, to each topic
of ``--to``, every delivery report awaited, then one synchronous commit; with the settings of the
router's writer (hub.kafka.writing: acks=all, idempotence, linger 5 ms, 16 KiB batches, murmur2).
It parses nothing and decides nothing. The yardstick of issue 12 stays the aiokafka loop.
"""

from __future__ import annotations

from confluent_kafka import Consumer, Producer, TopicPartition

from benchmarks.passthrough import arguments

__all__ = ["main", "pass_through"]

BATCH = 500


def pass_through(bootstrap: str, source: str, to: list[str], group: str, count: int) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.size": 16384,
            "partitioner": "murmur2_random",
        }
    )
    consumer.subscribe([source])
    done = 0
    try:
        while done < count:
            messages = [m for m in consumer.consume(BATCH, 0.5) if m.error() is None]
            if not messages:
                continue
            offsets: dict[tuple[str, int], int] = {}
            for message in messages:
                for topic in to:
                    producer.produce(
                        topic, message.value(), message.key(), headers=message.headers()
                    )
                offsets[(message.topic() or "", message.partition() or 0)] = (
                    message.offset() or 0
                ) + 1
            producer.flush()
            consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                asynchronous=False,
            )
            done += len(messages)
    finally:
        producer.flush()
        consumer.close()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    pass_through(args.bootstrap, args.source, args.to.split(","), args.group, args.count)


if __name__ == "__main__":
    main()
