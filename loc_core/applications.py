"""Underwriting vocabulary shared by loan and credit-line applications."""

from __future__ import annotations

import enum

import attrs

__all__ = ["AdverseAction", "ApplicationStatus"]


class ApplicationStatus(enum.Enum):
    """Where an application stands; values are the stored `loc_status` strings."""

    APPROVED = "APPROVED"
    """Approved and offered; accepting it before its TTL makes a loan or line."""
    REJECTED = "REJECTED"
    """Declined by underwriting, with adverse action reasons."""
    ABANDONED = "ABANDONED"
    """The offer expired without being accepted."""


@attrs.frozen
class AdverseAction:
    """One reason an application was rejected, as the borrower must be told it."""

    code: str
    text: str
