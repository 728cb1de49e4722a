"""Loan balance reconciliation: the loan, its installments and the ledger agree, or ops hear."""

import datetime as dt

import pytest
from deployment import Deployment

from loc_adapters.memory import InMemoryUnitOfWork
from loc_core.errors import NotFound
from loc_core.installment import Loan
from loc_core.ledger import FUNDING, Bucket, JournalEntry, receivable
from loc_core.ports import Severity, UnitOfWork
from loc_core.services.commands import ReconcileLoan, Reconciliation


def reconcile(world: Deployment, loan_id: str, uow: UnitOfWork | None = None) -> Reconciliation:
    """Reconcile user-1's loan, on `uow` when given (a repository that behaves differently)."""
    bus = world.bus if uow is None else world.replacing(UnitOfWork, uow)
    return bus.handle(ReconcileLoan("user-1", loan_id))


def test_a_loan_reconciles_through_payments_fees_and_default(world: Deployment) -> None:
    loan = world.open_loan(autopay=False)
    assert reconcile(world, loan.loan_id).matches
    world.at(dt.date(2026, 1, 12))
    world.pay_loan(loan, 2_000)
    world.at(dt.date(2026, 3, 26))
    world.run_daily_loan_job()
    result = reconcile(world, loan.loan_id)
    assert result.matches
    assert result.loan_outstanding == result.installments_outstanding == result.ledger_outstanding
    assert result.ledger_outstanding is not None  # the journal was read
    assert result.allowance == -result.ledger_outstanding  # defaulted: all of it reserved
    assert world.alerts() == []
    assert world.metrics.count("loc.loans.reconciliation.matched") == 2


def test_a_mismatch_is_alerted_with_the_figures_and_nothing_is_changed(world: Deployment) -> None:
    loan = world.open_loan()
    world.database.post(
        [
            JournalEntry.build(
                entry_id="stray",
                kind="disbursement",
                effective_date=dt.date(2026, 1, 5),
                reference=loan.loan_id,
                debits={receivable(loan.loan_id, Bucket.PRINCIPAL): 100},
                credits={FUNDING: 100},
            )
        ]
    )
    commits = world.database.commits
    result = reconcile(world, loan.loan_id)
    assert not result.matches
    assert result.problems == (
        "the ledger holds 31600, the loan says 31500",
        "principal: ledger 30100 != loan 30000",
    )
    [alert] = world.alerts()
    assert (alert.severity, alert.title) == (
        Severity.CRITICAL,
        f"loan {loan.loan_id} does not reconcile",
    )
    assert (alert.details["loan_outstanding"], alert.details["ledger_outstanding"]) == (
        31_500,
        31_600,
    )
    assert alert.details["ledger_principal"] == 30_100
    assert world.database.commits == commits
    assert world.loan(loan.loan_id).version == 1


def test_a_stored_loan_that_contradicts_itself_is_reported(world: Deployment) -> None:
    loan = world.open_loan()
    key = ("loan", "user-1", loan.loan_id)
    stored = world.database.read(key)
    stored.installments[0].outstanding_balance = 0
    stored.outstanding_balance -= 5_250
    world.database.write(key, stored)  # stored state that contradicts itself
    result = reconcile(world, loan.loan_id)
    assert not result.matches
    assert result.installments_outstanding == result.loan_outstanding == 26_250
    assert "outstanding_balance 0 != total_amount 5250" in result.problems[0]
    assert world.alert_titles() == [f"loan {loan.loan_id} does not reconcile"]
    with pytest.raises(NotFound):
        reconcile(world, "loan-x")


def test_a_repository_that_refuses_to_load_a_broken_loan_is_reported_too(
    world: Deployment,
) -> None:
    loan = world.open_loan()
    key = ("loan", "user-1", loan.loan_id)
    broken = world.database.read(key)
    broken.outstanding_balance = 1
    world.database.write(key, broken)
    uow = InMemoryUnitOfWork(world.database)
    read = uow.loans.get

    def verified(user_id: str, loan_id: str) -> Loan:  # as the DynamoDB repository loads
        found = read(user_id, loan_id)
        found.verify()
        return found

    uow.loans.get = verified  # type: ignore[method-assign]  # the repository under test loads strictly
    result = reconcile(world, loan.loan_id, uow)
    assert (result.matches, result.loan_outstanding, result.ledger_outstanding) == (
        False,
        None,
        31_500,
    )
    assert result.problems == (
        f"loan {loan.loan_id}: outstanding_balance 1 != sum of installments 31500",
    )
    assert world.alerts()[0].details["loan_outstanding"] is None


def test_a_commit_between_the_reads_is_not_a_false_mismatch(world: Deployment) -> None:
    loan = world.open_loan()
    world.at(dt.date(2026, 1, 12))
    uow = InMemoryUnitOfWork(world.database)
    entries_for = uow.journal.entries_for
    payments = iter(["first", "second"])

    def racing(reference: str) -> list[JournalEntry]:
        found = entries_for(reference)
        key = next(payments, None)
        if key is not None:  # a payment commits after the loan and its journal were read
            world.pay_loan(loan, 1_000, key=key)
        return found

    uow.journal.entries_for = racing  # type: ignore[method-assign]  # a writer between the reads
    result = reconcile(world, loan.loan_id, uow)
    assert result.matches
    assert result.loan_outstanding == 31_500 - 2_000
    assert world.alerts() == []
