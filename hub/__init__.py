"""Knooppunt: an event-driven integration hub for Dutch municipalities, on Apache Kafka."""

__version__ = "0.1.0"
__all__ = ["__version__"]
