"""How big a loan's stored items can grow, and the rule that keeps them storable.

A loan's root item and its payment items do not grow with its payments (a payment's
applications are at most one per installment), but an installment item keeps every live
payment applied to it (``loc_applications``), and the audit record of each change to it
keeps its applications before and after. Both are bounded (`ITEM_SIZE_LIMIT`, DynamoDB's
400 KB): past it, every command on the loan (payments, the daily job, corrections,
settlements) would fail for good. A correction's replay may move every payment of the
loan onto one installment (a returned payment leaves the oldest unpaid again, and later
payments pay it), so the bound is on the loan's payments:
`InstallmentProduct.max_manual_payments_per_loan` bounds the standing manual payments a
borrower makes (`require_payment_room`): a returned or charged-back payment leaves
nothing on an installment, so it no longer counts, and a payoff is never refused. The
rest of this module is the worst case that bound allows, which the start-up check
``check_loan_items_fit`` holds under the limit.
``tests/unit/adapters/test_loan_item_sizes.py`` measures it with the DynamoDB codec.
"""

from __future__ import annotations

import operator

from loc_core.errors import PaymentLimitReached
from loc_core.installment._state import LoanState
from loc_core.installment.config import InstallmentProduct
from loc_core.installment.installment import Installment
from loc_core.installment.vocabulary import Process
from loc_core.validation import utf8_length

__all__ = [
    "APPLICATION_BYTES",
    "FIXED_BYTES",
    "LONGEST_PAYMENT_ID",
    "UNREFUSED_PAYMENTS",
    "installment_bytes_at_most",
    "largest_installment_applications",
    "largest_installment_bytes",
    "manual_payments",
    "require_payment_room",
]

LONGEST_PAYMENT_ID = 400
"""The longest id a payment applied to an installment carries: a manual payment's
(``manual:<loan>:<client key>:pinless``, 399 characters with a 128-character loan id and
a 255-character key); a backdated payment's is 394, an autopay attempt's about 150."""
APPLICATION_BYTES = 1_152
"""The most bytes one application takes in its installment's item (measured: about 650
with the longest ids and the largest amounts) or in the audit record of a change to the
installment, which keeps it before and after (``<payment>=<cents>`` twice: about 830)."""
FIXED_BYTES = 8 * 1_024
"""Everything else on an installment item or its audit record: keys, parts, dates, the
record's actor, reason and request (measured with ids of 128 characters: about 1,800 for
the item, 4,700 for a record with a long reason and request)."""
UNREFUSED_PAYMENTS = 5
"""Payments a loan may hold beyond the bound and autopay's attempts, never refused: the
borrower's payoff (it closes the loan, so no payment follows it unless it is reversed,
and then it no longer counts), a borrower's payment checked before the bound was reached
and booked after it (by its retry or the recovery job), and operators' backdated
payments (three)."""

_APPLICATION_OVERHEAD = APPLICATION_BYTES - 2 * LONGEST_PAYMENT_ID
"""An application's bytes besides (twice) its payment id: its installment id, amounts,
date and their names."""
_PAYMENT_ID = operator.attrgetter("payment_id")


def installment_bytes_at_most(installment: Installment) -> int:
    """No fewer bytes than `installment`'s stored item, or its change's audit record, takes.

    What a store without an encoding of its own (the memory store) checks against
    `ITEM_SIZE_LIMIT`, so that it refuses what DynamoDB would (and sooner, never later).
    """
    ids = list(map(_PAYMENT_ID, installment.applications))
    return FIXED_BYTES + len(ids) * _APPLICATION_OVERHEAD + 2 * utf8_length(ids)


def largest_installment_applications(product: InstallmentProduct) -> int:
    """The most payments one installment may hold applied under `product`.

    Every payment of the loan (a replay can put them all on one installment): the manual
    ones the bound allows, every autopay attempt the loan may make, and the unrefused.
    """
    autopay = product.max_collection_attempts * product.max_installments
    return product.max_manual_payments_per_loan + autopay + UNREFUSED_PAYMENTS


def largest_installment_bytes(product: InstallmentProduct) -> int:
    """The most bytes an installment item (or its audit record) may take under `product`."""
    return FIXED_BYTES + largest_installment_applications(product) * APPLICATION_BYTES


def manual_payments(loan: LoanState) -> int:
    """The standing manual payments of the loan, operators' backdated ones too.

    A returned or charged-back payment is not counted: its applications were taken off
    the installments, and no replay books it again.
    """
    return sum(
        1
        for payment in loan.payments.values()
        if payment.process is Process.MANUAL and not payment.status.reversed
    )


def require_payment_room(loan: LoanState, amount: int) -> None:
    """Refuse a borrower's new manual payment of `amount` once the loan holds the most allowed.

    The bound is the loan's own product's (the terms it was made under). A payment of
    everything the loan owes is never refused: a borrower can always pay off the loan.

    Raises:
        PaymentLimitReached: the loan already holds `max_manual_payments_per_loan`
            standing manual payments and `amount` does not pay it off; nothing changed.
    """
    count, limit = manual_payments(loan), loan.product.max_manual_payments_per_loan
    if count >= limit and amount < loan.outstanding_balance:
        raise PaymentLimitReached(
            f"loan {loan.loan_id} already holds {count} manual payments; its product allows "
            f"{limit} a loan (max_manual_payments_per_loan): autopay still collects each "
            "installment, a payment of everything owed is always taken, and support can "
            "take a payment by hand",
            about=loan,
            key="max_manual_payments_per_loan",
        )
