"""Contracts of the brp domain."""

__all__: list[str] = []
