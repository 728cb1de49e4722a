"""Ports about borrowers: the user service and underwriting's decisions."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import attrs

from loc_core.applications import AdverseAction, ConsumerReport
from loc_core.installment import OriginationFee

__all__ = ["LineDecision", "LoanDecision", "Underwriting", "User", "Users"]


@attrs.frozen
class User:
    """What servicing needs to know about a borrower."""

    user_id: str
    active: bool
    """False for a closed, suspended or deceased account: no new credit."""
    account_last_four: str = ""
    """The last four digits of the bank account money is sent to and collected from."""
    name: str = ""
    """The borrower's full name as documents print it; "" when the user service has none
    (a document then names the borrower by `user_id`: `borrower_name`)."""

    @property
    def borrower_name(self) -> str:
        """The name an agreement or statement prints: `name`, else the user id."""
        return self.name.strip() or self.user_id


class Users(Protocol):
    """The user service."""

    def get(self, user_id: str) -> User:
        """The user. Raises `NotFound`."""
        ...


@attrs.frozen
class LoanDecision:
    """Underwriting's answer to a request for an installment loan.

    An approval of less than the amount requested is a counteroffer (12 CFR
    1002.9(a)(1)(iv)): it must give the reasons the amount requested was not granted, as a
    rejection does, or it is refused as outside underwriting's contract.
    """

    approved: bool
    loan_amount: int = 0
    """The principal approved, in cents; below the amount requested: a counteroffer."""
    fee: OriginationFee | None = None
    installment_count: int | None = None
    """None: the product's default count."""
    adverse_actions: tuple[AdverseAction, ...] = ()
    """Why a rejected request was rejected, or why a counteroffer does not grant the amount
    requested (at least one for either; ignored with an approval of the whole amount)."""
    consumer_report: ConsumerReport | None = None
    """The consumer report (and score) a rejection or a counteroffer used in whole or in
    part; underwriting must send it whenever it used one, so the adverse action notice
    carries FCRA 615(a)'s part. None: no consumer report was used."""


@attrs.frozen
class LineDecision:
    """Underwriting's answer to a request for a line of credit."""

    approved: bool
    credit_limit: int = 0
    apr: Decimal | None = None
    minimum_payment_percent: Decimal | None = None
    adverse_actions: tuple[AdverseAction, ...] = ()
    """Why a rejected request was rejected (at least one when not approved)."""
    consumer_report: ConsumerReport | None = None
    """As `LoanDecision.consumer_report`."""


class Underwriting(Protocol):
    """The underwriting service: decides, never books anything."""

    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        """Approve (possibly a smaller amount, with its reasons) or reject a loan request."""
        ...

    def decide_line(self, user_id: str) -> LineDecision:
        """Approve or reject a request for a line of credit."""
        ...
