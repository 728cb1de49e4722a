"""Underwriting vocabulary shared by loan and credit-line applications."""

from __future__ import annotations

import enum

import attrs

__all__ = ["AdverseAction", "ApplicationRef", "ApplicationStatus"]


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


@attrs.frozen
class ApplicationRef:
    """An application as an error names it (`errors.Subject`): its kind, id and applicant.

    Errors call a loan's application ``loan_application`` and a line's ``line_application``.
    """

    kind: str
    application_id: str
    user_id: str

    def audit_key(self) -> tuple[str, str]:
        """The kind and id an error about the application carries."""
        return (self.kind, self.application_id)
