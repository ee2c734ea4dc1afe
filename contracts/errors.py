"""The root of every exception Knooppunt raises on purpose, and the contract error.

The tree is drawn here and in ``hub.errors`` (which extends it for the runtime); connectors use
``connectors.sdk`` outcomes. ``contracts`` is the bottom layer, so the root lives here.
"""

from __future__ import annotations

__all__ = ["ContractError", "KnooppuntError"]


class KnooppuntError(Exception):
    """Base of every error Knooppunt raises on purpose."""


class ContractError(KnooppuntError):
    """An event does not match its contract (unknown type, bad envelope or invalid payload).

    ``field`` names the offending field (dotted path, or a Kafka header name) where one is known;
    ``reason`` is the message without it (for a problem document's ``invalidParams``).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field, self.reason = field, message
        super().__init__(f"{field}: {message}" if field else message)
