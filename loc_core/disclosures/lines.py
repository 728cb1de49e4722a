"""A line of credit's account-opening disclosure (12 CFR 1026.6(b), model form G-17).

Open-end credit that is not home-secured needs its account-opening table before the
first draw. `line_disclosure` builds it from an APPROVED line offer and its product, with
the figures the line itself applies, never text typed beside them:

- **APR.** The line charges ``cent-days x APR / (100 x 365)`` per cycle
  (`loc_core.creditline` billing), a daily periodic rate of APR / 365 on each day's
  principal: a year of a balance at that rate is the APR, so the disclosed APR is the
  offer's APR (two places, half-up), and the daily rate is printed as statements print
  it (six places, half-up).
- **No grace period.** Interest accrues from the day of each draw on each end-of-day
  principal; paying the balance in full by the due date does not avoid it.
- **Fees.** The product's late fee, charged by the overdue job once the due date has
  passed (the day after it), once per cycle, never above the minimum due; the
  correction policy says whether a minimum missed only because its payment was returned
  is charged it. The line charges no annual fee, no fee per draw, no returned-payment
  fee and no minimum interest charge: those are 0 here because no code charges them.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from loc_core.applications import ApplicationStatus
from loc_core.creditline import CreditLineApplication, CreditLineProduct
from loc_core.disclosures.figures import LineDisclosure
from loc_core.errors import ApplicationNotApproved
from loc_core.money import exact_context

__all__ = ["BALANCE_COMPUTATION_METHOD", "LATE_FEE_DAYS_AFTER_DUE", "line_disclosure"]

BALANCE_COMPUTATION_METHOD = "average daily balance (including new draws)"
"""The method billing uses: each day's end-of-day principal, draws included from their
day, summed and charged the daily periodic rate (1026.60(g)'s name for it)."""

LATE_FEE_DAYS_AFTER_DUE = 1
"""The overdue job charges the late fee when ``today > due date``: the day after."""

_NOT_CHARGED = 0
"""An annual fee, a fee per draw, a returned-payment fee, a minimum interest charge: the
line charges none of them."""

_DAYS_IN_YEAR = 365
_TWO_PLACES = Decimal("0.01")
_SIX_PLACES = Decimal("0.000001")
_CONTEXT = exact_context(50)


def line_disclosure(
    application: CreditLineApplication, product: CreditLineProduct
) -> LineDisclosure:
    """The account-opening figures of an APPROVED line offer under `product`.

    The offer gives the limit, APR and minimum-payment percent; the product the late fee,
    the due-date offset and whether a return-caused miss is charged a late fee. The
    disclosure is dated on the approval's day (`created_at`'s UTC date).

    Raises:
        ApplicationNotApproved: for an application that is not APPROVED or has no terms
            (rejected, abandoned): it makes no offer to disclose.
    """
    limit, apr, percent = (
        application.credit_limit,
        application.apr,
        application.minimum_payment_percent,
    )
    if (
        application.status is not ApplicationStatus.APPROVED
        or limit is None
        or apr is None
        or percent is None
    ):
        raise ApplicationNotApproved(
            f"application {application.application_id} is {application.status.value}: "
            "there is no offer to disclose",
            about=application.ref,
        )
    with decimal.localcontext(_CONTEXT):
        daily_rate = (apr / _DAYS_IN_YEAR).quantize(_SIX_PLACES, rounding=decimal.ROUND_HALF_UP)
        annual_rate = apr.quantize(_TWO_PLACES, rounding=decimal.ROUND_HALF_UP)
    return LineDisclosure(
        user_id=application.user_id,
        application_id=application.application_id,
        disclosed_on=application.created_at.date(),
        credit_limit=limit,
        annual_percentage_rate=annual_rate,
        daily_periodic_rate=daily_rate,
        minimum_payment_percent=percent,
        statement_to_due_days=product.statement_to_due_days,
        annual_fee=_NOT_CHARGED,
        draw_fee=_NOT_CHARGED,
        returned_payment_fee=_NOT_CHARGED,
        minimum_interest_charge=_NOT_CHARGED,
        late_fee=product.late_fee_cents,
        late_fee_days_after_due=LATE_FEE_DAYS_AFTER_DUE,
        late_fee_when_missed_by_return=product.corrections.late_fee_when_missed_by_return,
        balance_computation_method=BALANCE_COMPUTATION_METHOD,
    )
