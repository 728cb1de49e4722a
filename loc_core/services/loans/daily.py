"""The daily job (seed ``collections/latefee.go``): overdue installments, late fees, defaults.

It finds the loans that may need it through the installment index (SCHEDULED ones past
their due date, and every OVERDUE one), then runs `Loan.run_daily` on each in its own
unit of work: one loan that fails is alerted and counted, and the others still run.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.installment import InstallmentStatus
from loc_core.ports import Alerter, Clock, Metrics, UnitOfWork
from loc_core.services.kit import post_alert, retry_on_conflict
from loc_core.services.messagebus import Publisher
from loc_core.services.scheduled import PageableJob

__all__ = ["DailyJobResult", "RunDailyLoanJob", "run_daily_loan_job"]


@attrs.frozen
class RunDailyLoanJob(PageableJob["DailyJobResult"]):
    """Run the loans' daily job (17:00 UTC): late fees, overdue installments, defaults."""


@attrs.frozen
class DailyJobResult:
    """What one run of the daily job did."""

    loans_checked: int
    loans_changed: int
    """Loans that had an installment become overdue, a late fee, or a default."""
    failed: tuple[str, ...] = ()
    """Ids of the loans that could not be processed (each one alerted)."""
    cursor: str | None = None
    """Where the next page starts (`PageableJob.cursor`); None when no loan is left."""


def run_daily_loan_job(
    command: RunDailyLoanJob,
    *,
    uow: UnitOfWork,
    clock: Clock,
    publish: Publisher,
    alerter: Alerter,
    metrics: Metrics,
) -> DailyJobResult:
    """Make installments overdue (with late fees) and default loans, as of the business date.

    Running it twice on a day changes nothing the second time; a day missed is caught
    up by the next run. Loans on their own product's grace period are found without
    knowing it: every SCHEDULED installment past its due date is a candidate, and the
    loan decides.
    """
    today = command.business_date(clock)
    with uow:
        refs = [
            *uow.loans.installments(
                InstallmentStatus.SCHEDULED, due_through=today - dt.timedelta(days=1)
            ),
            *uow.loans.installments(InstallmentStatus.OVERDUE),
        ]
    page = command.page(((ref.user_id, ref.loan_id) for ref in refs), _loan_key)
    loans = page.items
    changed = 0
    failed: list[str] = []
    for user_id, loan_id in loans:

        def attempt(user_id: str = user_id, loan_id: str = loan_id) -> bool:
            with uow:
                loan = uow.loans.get(user_id, loan_id)
                loan.run_daily(today)
                if not loan.outbox:
                    return False
                uow.loans.save(loan)
                events = uow.commit(
                    actor="daily-job", request_id=f"daily:{today.isoformat()}:{loan_id}"
                )
            publish(events)
            return True

        try:
            changed += retry_on_conflict(attempt)
        except Exception as exc:  # noqa: BLE001 - one bad loan must not stop the book; it is alerted
            failed.append(loan_id)
            post_alert(
                alerter,
                f"daily job failed for loan {loan_id}",
                {"user_id": user_id, "loan_id": loan_id},
                error=exc,
            )
    metrics.gauge("loc.loans.daily.checked", len(loans))
    metrics.gauge("loc.loans.daily.changed", changed)
    metrics.gauge("loc.loans.daily.failed", len(failed))
    return DailyJobResult(len(loans), changed, tuple(failed), page.cursor)


def _loan_key(loan: tuple[str, str]) -> str:
    """A loan's stable paging key: ``<user>/<loan>`` (no id holds a ``/``)."""
    return f"{loan[0]}/{loan[1]}"
