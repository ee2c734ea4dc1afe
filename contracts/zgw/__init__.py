"""Contracts of the zgw domain."""

__all__: list[str] = []
