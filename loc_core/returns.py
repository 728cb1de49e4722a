"""What a returned debit's reason code means for the borrower's debit authorization.

A rail reports why it took a debit back: an ACH return carries a NACHA reason code
(``R01`` ... ``R85``), a pinless chargeback the card network's reason as the rail words
it. The money is reversed whatever the reason (`Loan.settle`, `CreditLine.correct_return`);
this module says what else the return means, the same for both products
(``docs/money-movements.md``, *Returned debits and the debit authorization*):

- `ReturnKind.INSUFFICIENT_FUNDS` (``R01``, ``R09``): the only returns NACHA lets a
  lender present again, at most twice after the first entry, for the same amount;
  autopay stays on and the product's attempt limit bounds the re-presentments.
- `ReturnKind.UNAUTHORIZED` (``R05``, ``R07``, ``R10``, ``R11``, ``R29``, ``R51``, and a
  chargeback whose reason says unauthorized or fraud): the borrower revoked or denies the
  authorization. Presenting again violates NACHA: autopay stops.
- `ReturnKind.ACCOUNT` (``R02``, ``R03``, ``R04``, ``R16``, ``R20``): the account cannot
  be debited. Presenting to it again is pointless and forbidden: autopay stops until
  the borrower turns it on again with a usable account.
- `ReturnKind.UNKNOWN` (any other code, or none): never a harmless return. The safe
  default is the one that cannot break the rules: autopay stops (the only entries NACHA
  lets a lender re-present without a new authorization or a corrected account are NSF
  ones), and operations are told the code to review.
"""

from __future__ import annotations

import enum
import re
from typing import Final

import attrs

from loc_core.events import AuditValue
from loc_core.payments import SettlementOutcome

__all__ = [
    "MAX_PRESENTMENTS",
    "RETURN_KINDS",
    "AutopayStop",
    "ReturnKind",
    "autopay_stop_reason",
    "autopay_stopped_data",
    "classify_return",
]

MAX_PRESENTMENTS: Final = 3
"""NACHA's limit on one entry: the first presentment and at most two re-presentments of
an entry returned for insufficient funds (``R01``, ``R09``). The installment product's
`max_collection_attempts` may not exceed it."""


class ReturnKind(enum.Enum):
    """What a returned or charged-back debit says about debiting the borrower again."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    """``R01``/``R09``: may be presented again (same amount, within the attempt limit)."""
    UNAUTHORIZED = "unauthorized"
    """The borrower revoked or denies the authorization: no automatic debit again."""
    ACCOUNT = "account"
    """The account is closed, unknown, invalid, frozen or cannot be debited."""
    UNKNOWN = "unknown"
    """A code this library does not know, or none: treated as stopping autopay."""

    @property
    def stops_autopay(self) -> bool:
        """Whether the return stops automatic debits (every kind but insufficient funds)."""
        return self is not ReturnKind.INSUFFICIENT_FUNDS


RETURN_KINDS: Final[dict[str, ReturnKind]] = {
    "R01": ReturnKind.INSUFFICIENT_FUNDS,
    "R09": ReturnKind.INSUFFICIENT_FUNDS,
    "R02": ReturnKind.ACCOUNT,
    "R03": ReturnKind.ACCOUNT,
    "R04": ReturnKind.ACCOUNT,
    "R16": ReturnKind.ACCOUNT,
    "R20": ReturnKind.ACCOUNT,
    "R05": ReturnKind.UNAUTHORIZED,
    "R07": ReturnKind.UNAUTHORIZED,
    "R10": ReturnKind.UNAUTHORIZED,
    "R11": ReturnKind.UNAUTHORIZED,
    "R29": ReturnKind.UNAUTHORIZED,
    "R51": ReturnKind.UNAUTHORIZED,
}
"""The NACHA return codes this library acts on, by kind; any other code is UNKNOWN."""

_UNAUTHORIZED_WORDS = re.compile(r"unauthori[sz]ed|not authori[sz]ed|fraud", re.IGNORECASE)
"""A chargeback reason that says the borrower denies the debit."""

_WHY: Final[dict[ReturnKind, str]] = {
    ReturnKind.UNAUTHORIZED: "the borrower revoked or denies the debit authorization",
    ReturnKind.ACCOUNT: "the account cannot be debited: a new account is needed",
    ReturnKind.UNKNOWN: "a return reason this library does not know: reviewed by hand",
}


def classify_return(outcome: SettlementOutcome, return_code: str) -> ReturnKind:
    """The kind of a RETURNED or CHARGED_BACK debit with the rail's `return_code`.

    A NACHA code is read without regard to case or surrounding blanks. A chargeback is
    UNAUTHORIZED when its reason (or code) says so, else UNKNOWN. A completion is not a
    return: asking is a programming error.

    Raises:
        ValueError: for a COMPLETED outcome.
    """
    if outcome is SettlementOutcome.COMPLETED:
        raise ValueError("a completion is not a return")
    code = return_code.strip().upper()
    known = RETURN_KINDS.get(code)
    if known is not None:
        return known
    if outcome is SettlementOutcome.CHARGED_BACK and _UNAUTHORIZED_WORDS.search(return_code):
        return ReturnKind.UNAUTHORIZED
    return ReturnKind.UNKNOWN


def autopay_stop_reason(kind: ReturnKind, return_code: str, payment_id: str) -> str:
    """The audited reason autopay stopped after payment `payment_id` came back as `kind`."""
    shown = return_code.strip() or "no code"
    return f"payment {payment_id} returned ({shown}): {_WHY[kind]}; autopay stopped"


def autopay_stopped_data(
    kind: ReturnKind,
    return_code: str,
    payment_id: str,
    *,
    loan_id: str | None = None,
    line_id: str | None = None,
) -> dict[str, AuditValue]:
    """The ``autopay_stopped`` notice's data: which account, which payment, why (by kind)."""
    return {
        "loan_id": loan_id,
        "line_id": line_id,
        "payment_id": payment_id,
        "return_code": return_code,
        "reason": kind.value,
    }


@attrs.frozen
class AutopayStop:
    """What a returned debit did to autopay: its kind, and whether it turned autopay off."""

    kind: ReturnKind
    stopped: bool
    """Autopay was on and the return turned it off (False: NSF, or it was off already)."""

    @property
    def why(self) -> str:
        """In words, for operations: why the return forbids presenting the debit again."""
        return _WHY.get(self.kind, "insufficient funds: may be presented again")
