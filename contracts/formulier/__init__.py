"""Contracts of the form (e-formulier) domain."""

__all__: list[str] = []
