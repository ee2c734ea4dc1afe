"""Connectors between Knooppunt's contract topics and external systems."""

__all__: list[str] = []
