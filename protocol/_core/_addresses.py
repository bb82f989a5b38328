"""Addresses of the three parties, derived from their protocol identifiers."""

from __future__ import annotations

from ._effects import Address

__all__ = ["CLOUD", "phone_address", "pos_address"]

CLOUD: Address = "cloud"
"""The address of the cloud server."""


def phone_address(phone_id: str) -> Address:
    """The address of the phone whose identifier is ``phone_id``."""
    return f"phone:{phone_id}"


def pos_address(merchant_id: str, pos_id: str) -> Address:
    """The address of checkout ``pos_id`` of merchant ``merchant_id``."""
    return f"pos:{merchant_id}:{pos_id}"
