"""Contracts of the bericht domain."""

__all__: list[str] = []
