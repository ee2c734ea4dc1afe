"""Versioned event contracts: CloudEvents envelopes and their payload models."""

from contracts.cloudevents import CloudEvent, source_urn
from contracts.events import build_event, event_key, read_as
from contracts.registry import CONTRACTS, ContractSpec, contract_for, is_known_type

__all__ = [
    "CONTRACTS",
    "CloudEvent",
    "ContractSpec",
    "build_event",
    "contract_for",
    "event_key",
    "is_known_type",
    "read_as",
    "source_urn",
]
