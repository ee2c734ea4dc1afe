"""A back office reading its own destination topic with only a Kafka client and the published
JSON Schemas (README.md beside this file). Copy the folder; it imports nothing of Knooppunt."""

from examples.backoffice_consumer.events import NotAnEvent, ReceivedEvent, Schemas, read_event
from examples.backoffice_consumer.store import EventStore

__all__ = ["EventStore", "NotAnEvent", "ReceivedEvent", "Schemas", "read_event"]
