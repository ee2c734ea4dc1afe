"""The hub's side of the connector SDK: building each connector's context, running polling
sources and their checkpoints, mounting push sources."""

__all__: list[str] = []
