"""Versioned event contracts: CloudEvents envelopes and their payload models."""

from contracts.cloudevents import CloudEvent, source_urn
from contracts.registry import CONTRACTS, ContractSpec, contract_for, contract_types

__all__ = [
    "CONTRACTS",
    "CloudEvent",
    "ContractSpec",
    "contract_for",
    "contract_types",
    "source_urn",
]
