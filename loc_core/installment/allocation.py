"""How a payment spreads over a loan's installments, computed without changing them.

Oldest due date first; where the money runs out the installment is paid partially, and
what is left after an installment pays the next ones (prepayment). Inside an installment
the money pays late fee, then origination fee, then principal (`WATERFALL`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from loc_core.errors import InvariantViolation, Overpayment
from loc_core.installment.installment import Installment, PaymentApplication
from loc_core.money import waterfall

__all__ = ["allocate"]


def allocate(
    *,
    payment_id: str,
    amount: int,
    installments: Sequence[Installment],
    payment_date: dt.date,
) -> tuple[PaymentApplication, ...]:
    """The applications that pay `amount` cents into `installments` (in due-date order).

    Raises:
        Overpayment: when `amount` is more than the installments' outstanding balances.
    """
    left = amount
    applications: list[PaymentApplication] = []
    for installment in installments:
        if left == 0:
            break
        if installment.outstanding_balance == 0:
            continue
        take = min(left, installment.outstanding_balance)
        parts, rest = waterfall(take, installment.unpaid_parts())
        if rest:
            raise InvariantViolation(
                f"installment {installment.installment_id}: buckets do not add up to its "
                f"outstanding balance {installment.outstanding_balance}",
                about=installment,
                invariant="buckets_sum_to_balance",
            )
        late_fee, origination_fee, principal = parts
        applications.append(
            PaymentApplication(
                payment_id=payment_id,
                installment_id=installment.installment_id,
                amount=take,
                payment_date=payment_date,
                late_fee=late_fee,
                origination_fee=origination_fee,
                principal=principal,
            )
        )
        left -= take
    if left:
        raise Overpayment(
            f"payment {payment_id} of {amount} cents is {left} cents more than is owed",
            entity="payment",
            entity_id=payment_id,
        )
    return tuple(applications)
