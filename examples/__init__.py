"""Examples for systems around the hub. Each folder stands alone: no imports from the hub."""

__all__: list[str] = []
