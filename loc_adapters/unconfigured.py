"""What a real deployment gets for an outside service it was given no settings for.

The embedded default (the memory backend) stands in simulated rails, underwriting and an
in-memory user list for the real services. A deployment on the real table must not:
simulated underwriting approves by a seeded draw, simulated rails report money moved that
never moved, an empty user list knows no borrower. These adapters take their place
(``LOC_STAND_INS``, docs/configuration.md): every call fails with `ServiceNotConfigured`,
naming the variable to set, and nothing is applied. A function that never calls the
service (the overdue job never calls underwriting) is not affected.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import attrs

from loc_adapters.memory.rails import SIMULATED_TIMEOUT
from loc_core.errors import RailsNotConfigured, ServiceNotConfigured
from loc_core.ports import LineDecision, LoanDecision, TransferRequest, TransferResult, User

__all__ = ["UnconfiguredRails", "UnconfiguredUnderwriting", "UnconfiguredUsers"]

_STAND_INS = "or LOC_STAND_INS=simulated for a deployment that serves no real borrower"


@attrs.frozen
class UnconfiguredRails:
    """`PaymentRails` without PayEngine settings: no transfer is ever sent."""

    timeout: dt.timedelta = SIMULATED_TIMEOUT
    """What the start-up lease check reads; no call is ever made."""

    def submit(self, request: TransferRequest) -> TransferResult:
        """Refuse: nothing was sent, so nothing moved (`RailsNotConfigured`)."""
        raise RailsNotConfigured(
            f"the payment rails are not configured, so transfer {request.idempotency_key!r} "
            f"was not sent: set LOC_PAYENGINE_BASE_URL ({_STAND_INS})",
            key="LOC_PAYENGINE_BASE_URL",
        )

    def find(self, idempotency_key: str) -> TransferResult | None:
        """Refuse: with no rails configured, no transfer's fate can be known here."""
        raise ServiceNotConfigured(
            f"the payment rails are not configured, so transfer {idempotency_key!r} cannot "
            f"be looked up: set LOC_PAYENGINE_BASE_URL ({_STAND_INS})",
            key="LOC_PAYENGINE_BASE_URL",
        )


@attrs.frozen
class UnconfiguredUnderwriting:
    """`Underwriting` without settings: no application is decided."""

    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        """Refuse (`ServiceNotConfigured`)."""
        _refuse(
            "underwriting",
            "LOC_UNDERWRITING_BASE_URL",
            f"user {user_id}'s loan application for {requested_amount} cents",
        )

    def decide_line(self, user_id: str) -> LineDecision:
        """Refuse (`ServiceNotConfigured`)."""
        _refuse("underwriting", "LOC_UNDERWRITING_BASE_URL", f"user {user_id}'s line application")


@attrs.frozen
class UnconfiguredUsers:
    """`Users` without settings: no borrower is looked up."""

    def get(self, user_id: str) -> User:
        """Refuse (`ServiceNotConfigured`)."""
        _refuse("the user service", "LOC_USERS_BASE_URL", f"user {user_id}")


def _refuse(service: str, variable: str, about: str) -> NoReturn:
    raise ServiceNotConfigured(
        f"{service} is not configured, so {about} cannot be served: set {variable} ({_STAND_INS})",
        key=variable,
    )
