"""A loan's history replayed in effective order: what the loan would be had it been known.

The replay starts from the loan's origination terms (its schedule's amounts, due dates
and fee parts, as `originate` made them) and drives the loan's own commands day by day
from disbursement through `through`: on each day first the payments effective that day
(in the order they were booked), then the daily job, then the payments booked that day
after the job had changed the loan (`Payment.after_daily_job`), as they happened. A
RETURNED or CHARGED_BACK payment
is left out: reversed as of the day it was applied, it never paid anything. Since the
loan's own commands are re-driven, a history delivered on time and its replay agree by
construction.

Nothing here changes the loan replayed; `Loan.correct` adopts the result.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING

import attrs

from loc_core.events import Outbox
from loc_core.installment.installment import Installment
from loc_core.installment.vocabulary import InstallmentStatus, LoanStatus

if TYPE_CHECKING:
    from loc_core.installment.loan import Loan

__all__ = ["replay"]

_DAY = dt.timedelta(days=1)


def _as_scheduled(installment: Installment) -> Installment:
    """The installment as origination made it (its collection attempts kept)."""
    owed = installment.principal + installment.origination_fee
    return attrs.evolve(
        installment,
        late_fee=0,
        total_amount=owed,
        outstanding_balance=owed,
        status=InstallmentStatus.SCHEDULED,
        applications=[],
        overdue_on=None,
    )


def replay(
    loan: Loan, *, through: dt.date, standing: bool = False, job_through: bool = True
) -> Loan:
    """A new loan: `loan`'s terms with its payments not reversed, replayed through `through`.

    The result's outbox holds the journal entries the replayed history posts (its
    disbursement excepted) and its events; its payments are new objects whose
    applications and refunds say what each payment pays in the replayed history. The
    reversed payments are kept as records only (what the waiver of the correction
    policy reads). With `standing`, the counterfactual: every payment, reversed ones
    too, is booked as if it had stood. Without `job_through`, the daily job of `through`
    is not replayed (a correction booked before that job's hour: the job does it then),
    and every payment of that day is.
    """
    fresh = attrs.evolve(
        loan,
        daily_job_changed_on=None,
        installments=[_as_scheduled(installment) for installment in loan.installments],
        payments={},
        outstanding_balance=loan.total_amount,
        status=LoanStatus.OPEN,
        completion_date=None,
        defaulted_on=None,
        outbox=Outbox(),
    )
    live = [p for p in loan.payments.values() if standing or not p.status.reversed]
    if not standing:
        fresh.payments = {
            p.payment_id: copy.deepcopy(p) for p in loan.payments.values() if p.status.reversed
        }
    # stable: booking order within each day's part, before and after its job
    live.sort(key=lambda payment: (payment.submitted_on, payment.after_daily_job))
    pending = iter(live)
    upcoming = next(pending, None)
    day = loan.disbursement_date
    while day <= through:
        for after_job in (False, True):
            if after_job and (day < through or job_through):
                fresh.run_daily(day)
            while (
                upcoming is not None
                and upcoming.submitted_on <= day
                and (after_job or not upcoming.after_daily_job or upcoming.submitted_on < day)
            ):
                fresh.book_moved_payment(
                    upcoming.payment_id,
                    upcoming.amount,
                    process=upcoming.process,
                    rail=upcoming.rail,
                    today=upcoming.submitted_on,
                )
                upcoming = next(pending, None)
        day += _DAY
    return fresh
