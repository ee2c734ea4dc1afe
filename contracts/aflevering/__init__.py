"""Contracts of the aflevering domain."""

__all__: list[str] = []
