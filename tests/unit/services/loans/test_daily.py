"""The daily job: overdue installments, late fees and defaults, one loan at a time."""

import datetime as dt

from deployment import Deployment
from fakes import InterferingUnitOfWork

from loc_core.installment import InstallmentStatus, LoanStatus
from loc_core.ledger import allowance
from loc_core.ports import Severity, UnitOfWork
from loc_core.services.commands import DailyJobResult, RunDailyLoanJob
from loc_core.testing.installment import ledger_problems


def run(world: Deployment) -> DailyJobResult:
    return world.bus.handle(RunDailyLoanJob())


def test_an_installment_unpaid_after_grace_becomes_overdue_with_one_late_fee(
    world: Deployment,
) -> None:
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 24))
    assert run(world) == DailyJobResult(loans_checked=1, loans_changed=0)
    world.at(dt.date(2026, 1, 25))
    assert run(world) == DailyJobResult(loans_checked=1, loans_changed=1)
    assert run(world) == DailyJobResult(loans_checked=1, loans_changed=0)  # twice: once
    first = world.loan(loan.loan_id).installments[0]
    assert (first.status, first.late_fee, first.outstanding_balance) == (
        InstallmentStatus.OVERDUE,
        263,
        5_513,
    )
    assert [e.entry_id for e in world.ledger(loan.loan_id)][
        -1
    ] == f"{first.installment_id}:late_fee"
    assert world.sent() == ["loan_disbursed", "installment_overdue"]
    assert world.audit_processes("installment", first.installment_id)[-1] == "LATE_FEE"


def test_a_loan_overdue_sixty_days_defaults_and_autopay_stops(world: Deployment) -> None:
    loan = world.open_loan()
    world.at(dt.date(2026, 3, 26))  # installment 1 overdue since 25 January
    assert run(world).loans_changed == 1
    stored = world.loan(loan.loan_id)
    assert (stored.status, stored.autopay_enabled) == (LoanStatus.DEFAULTED, False)
    ledger = world.ledger(loan.loan_id)
    assert ledger.balance(allowance(loan.loan_id)) == -stored.outstanding_balance
    assert ledger_problems(stored, ledger) == []
    assert world.sent()[-1] == "loan_defaulted"
    world.at(dt.date(2026, 3, 27))
    assert run(world) == DailyJobResult(loans_checked=0, loans_changed=0)  # nothing left to do


def test_one_bad_loan_is_alerted_and_the_others_still_run(world: Deployment) -> None:
    good = world.open_loan("user-1", autopay=False)
    bad = world.open_loan("user-2", autopay=False)
    key = ("loan", "user-2", bad.loan_id)
    corrupted = world.database.read(key)
    corrupted.outstanding_balance = 1  # stored state that contradicts itself
    world.database.write(key, corrupted)
    world.at(dt.date(2026, 1, 25))
    result = run(world)
    assert (result.loans_checked, result.loans_changed, result.failed) == (2, 1, (bad.loan_id,))
    assert world.loan(good.loan_id).installments[0].status is InstallmentStatus.OVERDUE
    [alert] = world.alerts()
    assert (alert.severity, alert.title) == (
        Severity.CRITICAL,
        f"daily job failed for loan {bad.loan_id}",
    )
    assert "InvariantViolation" in str(alert.details["error"])
    assert world.metrics.gauges["loc.loans.daily.failed", ()] == 1


def test_a_concurrent_payment_is_not_lost_and_the_job_still_runs(world: Deployment) -> None:
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 25))
    interfering = InterferingUnitOfWork(world.database, lambda: world.pay_loan(loan, 1_000))
    assert world.replacing(UnitOfWork, interfering).handle(RunDailyLoanJob()).loans_changed == 1
    stored = world.loan(loan.loan_id)
    assert stored.installments[0].status is InstallmentStatus.OVERDUE
    assert stored.outstanding_balance == 31_500 + 263 - 1_000
