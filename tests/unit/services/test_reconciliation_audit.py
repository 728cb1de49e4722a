"""A money audit of reconciliation: stored records corrupted behind the services' back (a bad
deploy, a console edit, a half-applied migration) are each reported, naming what disagrees,
alerted, and left exactly as found; healthy books never raise a false alarm."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from deployment import LINES_OPENED, Deployment
from fakes import settlement
from http_api import Api
from litestar.testing import TestClient

from loc_adapters.memory import InMemoryUnitOfWork
from loc_core.creditline import CreditLine, Draw, DrawStatus
from loc_core.creditline.payment import LocPayment
from loc_core.installment import Loan, LoanStatus
from loc_core.ledger import (
    CLEARING,
    CREDIT_LOSS,
    FUNDING,
    Bucket,
    JournalEntry,
    income,
    receivable,
    refund_due,
)
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import Severity, UnitOfWork
from loc_core.services.commands import (
    BookBackdatedLoanPayment,
    LineReconciliation,
    MakePayment,
    ReconcileLine,
    ReconcileLoan,
    Reconciliation,
)
from loc_entrypoints.cli import main
from loc_entrypoints.http import create_app

PAID_ON = dt.date(2026, 1, 12)


# --- the store, as a console would see it ------------------------------------------


def stored(world: Deployment) -> tuple[object, ...]:
    """Everything the store holds that reconciliation could change, as stored."""
    db = world.database
    return (
        dict(db._rows),
        {ref: list(entries) for ref, entries in db._entries_by_reference.items()},
        db.ledger.digest(),
        db.commits,
        db.audit_count,
    )


def journal(world: Deployment, owner: str) -> list[JournalEntry]:
    """The stored entry list of a loan or line, to edit in place."""
    return world.database._entries_by_reference[owner]


def moved(entry: JournalEntry, old: str, new: str) -> JournalEntry:
    """`entry` with every posting to `old` posted to `new` instead (still balanced)."""
    postings = tuple(
        attrs.evolve(p, account=new) if p.account == old else p for p in entry.postings
    )
    return attrs.evolve(entry, postings=postings)


def stray(reference: str, debits: dict[str, int], credited: dict[str, int]) -> JournalEntry:
    return JournalEntry.build(
        entry_id=f"stray:{reference}",
        kind="payment",
        effective_date=PAID_ON,
        reference=reference,
        debits=debits,
        credits=credited,
    )


def cli_reconcile(world: Deployment, user_id: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["reconcile", "--user", user_id], obj={"bus": world.bus})
    return result.exit_code, result.output


# --- loans ---------------------------------------------------------------------------


@pytest.fixture
def loans() -> tuple[Deployment, Loan, Loan]:
    """user-1's loan with a payment applied, and user-2's loan beside it."""
    world = Deployment.build()
    world.users.add("user-1")
    loan = world.open_loan(autopay=False)
    world.at(PAID_ON)
    world.pay_loan(loan, 2_000)
    other = world.open_loan("user-2")
    return world, loan, other


def check_loan(world: Deployment, user_id: str, loan_id: str) -> Reconciliation:
    """Reconcile twice: reported each time, alerted, and nothing stored changes."""
    before = stored(world)
    alerts = len(world.alerts())
    result = world.bus.handle(ReconcileLoan(user_id, loan_id))
    again = world.bus.handle(ReconcileLoan(user_id, loan_id))
    assert not result.matches
    assert again == result
    assert stored(world) == before
    posted = world.alerts()[alerts:]
    assert [(a.severity, a.title) for a in posted] == 2 * [
        (Severity.CRITICAL, f"loan {loan_id} does not reconcile")
    ]
    assert posted[0].details["problems"] == "; ".join(result.problems)
    return result


def last_payment_entry(world: Deployment, loan: Loan) -> int:
    entries = journal(world, loan.loan_id)
    return max(i for i, e in enumerate(entries) if e.entry_id.endswith(":apply"))


def test_a_loan_entry_stored_twice_is_reported_not_raised(loans: Any) -> None:
    world, loan, _ = loans
    entries = journal(world, loan.loan_id)
    entries.append(entries[last_payment_entry(world, loan)])  # same id, same content
    result = check_loan(world, "user-1", loan.loan_id)
    payment_entry = entries[-1].entry_id
    assert f"entry {payment_entry} is stored 2 times" in result.problems
    assert "the ledger holds 27500, the loan says 29500" in result.problems
    code, output = cli_reconcile(world, "user-1")
    assert code == 1
    assert f"mismatch: loan {loan.loan_id}" in output


def test_a_payment_booked_to_funding_instead_of_clearing_is_reported(loans: Any) -> None:
    world, loan, _ = loans
    entries = journal(world, loan.loan_id)
    at = last_payment_entry(world, loan)
    entries[at] = moved(entries[at], CLEARING, FUNDING)  # receivables untouched
    result = check_loan(world, "user-1", loan.loan_id)
    assert result.problems == (
        "asset:cash:clearing: ledger 0 != 2000 from the loan's records",
        "asset:cash:funding: ledger -28000 != -30000 from the loan's records",
    )
    assert result.accounts == {CLEARING: (2_000, 0), FUNDING: (-30_000, -28_000)}
    alert = world.alerts()[-1]
    assert (alert.details[f"expected {CLEARING}"], alert.details[f"ledger {CLEARING}"]) == (
        2_000,
        0,
    )


@pytest.mark.parametrize(
    ("debits", "credited", "accounts"),
    [
        pytest.param(
            {CLEARING: 500},
            {FUNDING: 500},
            {CLEARING: (2_000, 2_500), FUNDING: (-30_000, -30_500)},
            id="cash-to-cash",
        ),
        pytest.param(
            {CREDIT_LOSS: 500},
            {income(Bucket.LATE_FEE): 500},
            {CREDIT_LOSS: (0, 500), income(Bucket.LATE_FEE): (0, -500)},
            id="loss-to-income",
        ),
        pytest.param(
            {income(Bucket.ORIGINATION_FEE): 300},
            {income(Bucket.INTEREST): 300},
            {income(Bucket.ORIGINATION_FEE): (-1_500, -1_200), income(Bucket.INTEREST): (0, -300)},
            id="income-to-income",
        ),
    ],
)
def test_a_balanced_pair_on_the_wrong_lender_accounts_is_reported(
    loans: Any, debits: dict[str, int], credited: dict[str, int], accounts: dict[str, Any]
) -> None:
    world, loan, _ = loans
    journal(world, loan.loan_id).append(stray(loan.loan_id, debits, credited))
    result = check_loan(world, "user-1", loan.loan_id)
    assert result.accounts == accounts
    assert len(result.problems) == 2


def test_an_entry_posting_to_another_borrowers_loan_is_reported_on_the_loan_it_is_filed_under(
    loans: Any,
) -> None:
    world, loan, other = loans
    # stored with user-2's loan, but it pays down user-1's receivable
    journal(world, other.loan_id).append(
        stray(other.loan_id, {CLEARING: 500}, {receivable(loan.loan_id, Bucket.PRINCIPAL): 500})
    )
    result = check_loan(world, "user-2", other.loan_id)
    assert (
        f"entry stray:{other.loan_id} posts -500 to {receivable(loan.loan_id, Bucket.PRINCIPAL)}, "
        f"an account of neither {other.loan_id} nor the lender"
    ) in result.problems


def test_an_entry_moved_to_another_loans_journal_is_reported_on_both(loans: Any) -> None:
    world, loan, other = loans
    entry = journal(world, loan.loan_id).pop(last_payment_entry(world, loan))
    journal(world, other.loan_id).append(entry)
    mine = check_loan(world, "user-1", loan.loan_id)
    assert "principal: ledger 30000 != loan 28250" in mine.problems
    theirs = check_loan(world, "user-2", other.loan_id)
    assert (
        f"entry {entry.entry_id} is stored with {other.loan_id} but belongs to {loan.loan_id}"
        in theirs.problems
    )


@pytest.mark.parametrize(
    "corrupt",
    [
        "entry deleted",
        "amount changed",
        "account changed",
        "installment outstanding",
        "loan outstanding",
        "refund due",
    ],
)
def test_what_reconciliation_already_caught_on_a_loan_still_is(loans: Any, corrupt: str) -> None:
    """Sound before this audit: each still reported, alerted, nothing changed."""
    world, loan, _ = loans
    entries = journal(world, loan.loan_id)
    at = last_payment_entry(world, loan)
    key = ("loan", "user-1", loan.loan_id)
    record = world.database.read(key)
    expected = {
        "entry deleted": "the ledger holds 31500, the loan says 29500",
        "amount changed": "the ledger holds 29499, the loan says 29500",
        "account changed": "late_fee: ledger -1750 != loan 0",
        "installment outstanding": "installments must be",
        "loan outstanding": "outstanding_balance 1 != sum of installments 29500",
        "refund due": "the ledger owes 0 back, the loan's refunds due 0",
    }[corrupt]
    if corrupt == "entry deleted":
        entries.pop(at)
    elif corrupt == "amount changed":
        entries[at] = attrs.evolve(
            entries[at],
            postings=tuple(attrs.evolve(p, amount=p.amount + 1) for p in entries[at].postings[:2])
            + entries[at].postings[2:],
        )
        expected = "the ledger holds"
    elif corrupt == "account changed":
        entries[at] = moved(
            entries[at],
            receivable(loan.loan_id, Bucket.PRINCIPAL),
            receivable(loan.loan_id, Bucket.LATE_FEE),
        )
    elif corrupt == "installment outstanding":
        record.installments[1].outstanding_balance -= 100
        world.database.write(key, record)
        expected = "installment"
    elif corrupt == "loan outstanding":
        record.outstanding_balance = 1
        world.database.write(key, record)
    else:  # the liability booked, no refund on the loan
        entries.append(stray(loan.loan_id, {CLEARING: 700}, {refund_due(loan.loan_id): 700}))
        expected = "the ledger owes 700 back, the loan's refunds due 0"
    result = check_loan(world, "user-1", loan.loan_id)
    assert any(expected in problem for problem in result.problems), result.problems


# --- lines ---------------------------------------------------------------------------


@pytest.fixture
def lines() -> tuple[Deployment, CreditLine, CreditLine]:
    """user-1's line drawn, billed and paid; user-2's line beside it."""
    world = Deployment.build(now=LINES_OPENED)
    line, other = world.open_line("user-1"), world.open_line("user-2")
    world.draw(line, 40_000)
    world.draw(other, 10_000)
    world.at(dt.date(2026, 4, 6), 9)
    world.bill()
    world.pay_line(line, 5_000)
    return world, line, other


def check_line(world: Deployment, user_id: str, line_id: str) -> LineReconciliation:
    before = stored(world)
    alerts = len(world.alerts())
    result = world.bus.handle(ReconcileLine(user_id, line_id))
    assert world.bus.handle(ReconcileLine(user_id, line_id)) == result
    assert not result.matches
    assert stored(world) == before
    assert [(a.severity, a.title) for a in world.alerts()[alerts:]] == 2 * [
        (Severity.CRITICAL, f"line {line_id} does not reconcile with its ledger")
    ]
    return result


def test_a_line_entry_stored_twice_is_reported_not_raised(lines: Any) -> None:
    world, line, _ = lines
    entries = journal(world, line.line_id)
    entries.append(entries[-1])
    result = check_line(world, "user-1", line.line_id)
    assert result.problems == (f"entry {entries[-1].entry_id} is stored 2 times",)
    assert set(result.mismatches) == {"principal", "interest"}
    # the payment's other leg: not a mismatch of its own, but in the alert
    alert = world.alerts()[-1]
    assert (alert.details[f"{CLEARING}_line"], alert.details[f"{CLEARING}_ledger"]) == (
        5_000,
        10_000,
    )


def test_a_line_payment_booked_to_funding_instead_of_clearing_is_reported(lines: Any) -> None:
    world, line, _ = lines
    entries = journal(world, line.line_id)
    entries[-1] = moved(entries[-1], CLEARING, FUNDING)
    result = check_line(world, "user-1", line.line_id)
    assert dict(result.mismatches) == {CLEARING: (5_000, 0), FUNDING: (-40_000, -35_000)}


def ghost_payment(line: CreditLine, amount: int) -> LocPayment:
    return LocPayment(
        payment_id="pay:ghost",
        line_id=line.line_id,
        user_id=line.user_id,
        amount=amount,
        rail=Rail.ACH,
        submitted_on=dt.date(2026, 4, 6),
        statement_date=None,
        paid_fees=0,
        paid_interest=0,
        paid_principal=amount,
        minimum_covered=0,
        status=PaymentStatus.COMPLETED,
    )


def ghost_draw(line: CreditLine, amount: int) -> Draw:
    return Draw(
        draw_id="draw:ghost",
        line_id=line.line_id,
        user_id=line.user_id,
        amount=amount,
        requested_on=dt.date(2026, 4, 6),
        status=DrawStatus.DISBURSED,
        rail=Rail.RTP,
        settled_on=dt.date(2026, 4, 6),
    )


@pytest.mark.parametrize(
    ("edit", "mismatches"),
    [
        pytest.param(
            lambda s: s.payments.__setitem__("pay:ghost", ghost_payment(s, 1_000)),
            {CLEARING: (6_000, 5_000)},
            id="payment-succeeded-without-entries",
        ),
        pytest.param(
            lambda s: s.draws.__setitem__("draw:ghost", ghost_draw(s, 700)),
            {FUNDING: (-40_700, -40_000)},
            id="draw-disbursed-without-entries",
        ),
    ],
)
def test_a_line_record_of_money_that_moved_without_entries_is_reported(
    lines: Any, edit: Callable[[CreditLine], object], mismatches: dict[str, Any]
) -> None:
    world, line, _ = lines
    world.edit_line(line, edit)  # the record written, its entries and balances never
    result = check_line(world, "user-1", line.line_id)
    assert dict(result.mismatches) == mismatches


def test_a_line_entry_posting_to_another_borrowers_line_is_reported(lines: Any) -> None:
    world, line, other = lines
    journal(world, other.line_id).append(
        stray(other.line_id, {CLEARING: 500}, {receivable(line.line_id, Bucket.PRINCIPAL): 500})
    )
    result = check_line(world, "user-2", other.line_id)
    foreign = receivable(line.line_id, Bucket.PRINCIPAL)
    expected = f"entry stray:{other.line_id} posts -500 to {foreign}, an account of neither "
    assert result.problems == (f"{expected}{other.line_id} nor the lender",)


@pytest.mark.parametrize("bucket", ["principal_balance", "interest_balance", "fee_balance"])
def test_a_line_bucket_altered_is_still_reported(lines: Any, bucket: str) -> None:
    """Sound before this audit."""
    world, line, _ = lines
    world.edit_line(line, lambda s: setattr(s, bucket, getattr(s, bucket) + 3))
    result = check_line(world, "user-1", line.line_id)
    name = {"principal_balance": "principal", "interest_balance": "interest"}.get(bucket, "fees")
    assert list(result.mismatches) == [name]


def test_a_line_commit_between_the_reads_is_not_a_false_mismatch(lines: Any) -> None:
    world, line, _ = lines
    uow = InMemoryUnitOfWork(world.database)
    entries_for = uow.journal.entries_for
    keys = iter(["race-1"])

    def racing(reference: str) -> list[JournalEntry]:
        key = next(keys, None)
        if key is not None:  # a payment commits after the line was read, before its journal
            world.pay_line(line, 1_000, key=key)
        return entries_for(reference)

    uow.journal.entries_for = racing  # type: ignore[method-assign]  # a writer between the reads
    result = world.replacing(UnitOfWork, uow).handle(ReconcileLine("user-1", line.line_id))
    assert result.matches, result
    assert world.alerts() == []


def test_http_reconcile_borrower_reports_a_line_payment_without_entries(lines: Any) -> None:
    world, line, _ = lines
    world.edit_line(line, lambda s: s.payments.__setitem__("pay:ghost", ghost_payment(s, 1_000)))
    entries = journal(world, line.line_id)
    entries.append(entries[-1])  # and an entry stored twice: a problem beyond the figures
    with TestClient(create_app(bus=world.bus)) as client:
        api = Api(world, client)
        answer = api.post("ops", "/operations/users/user-1/reconcile", None, service=True)
    assert answer.status_code == 200, answer.text
    checked = answer.json()
    assert checked["matches"] is False
    (check,) = checked["lines"]
    assert (check["line_id"], check["matches"]) == (line.line_id, False)
    assert check["mismatches"]  # the figures the duplicate moved
    assert check["problems"] == [f"entry {entries[-1].entry_id} is stored 2 times"]


# --- healthy books: no false alarm --------------------------------------------------


def test_healthy_loans_reconcile_through_corrections_a_return_after_payoff_and_a_default() -> None:
    world = Deployment.build()
    world.users.add("user-1")
    loan = world.open_loan(autopay=False)
    day = dt.date(2026, 1, 6)
    while day <= dt.date(2026, 1, 30):  # the first installment late: a late fee
        world.at(day, 7)
        world.run_daily_loan_job()
        day += dt.timedelta(days=1)
    world.at(dt.date(2026, 1, 31))
    world.bus.handle(  # an operator's backdated payment takes the late fee back
        BookBackdatedLoanPayment(
            "user-1", loan.loan_id, 5_250, dt.date(2026, 1, 19), "cheque keyed late", "cheque-1"
        )
    )
    owed = world.loan(loan.loan_id).outstanding_balance
    payoff = world.pay_loan(loan, owed, key="payoff")
    assert world.loan(loan.loan_id).status is LoanStatus.CLOSED
    world.at(dt.date(2026, 2, 3))
    world.settle(  # the payoff charged back after payoff: the loan reopens
        settlement(
            payoff.payment_id, SettlementOutcome.CHARGED_BACK, world.clock.now(), payoff.rail
        )
    )
    assert world.loan(loan.loan_id).status is LoanStatus.OPEN
    defaulted = world.open_loan("user-2", autopay=False)
    world.at(dt.date(2026, 4, 30))
    world.run_daily_loan_job()
    assert world.loan(defaulted.loan_id, "user-2").status is LoanStatus.DEFAULTED
    world.bus.handle(MakePayment("user-2", defaulted.loan_id, 1_000, "after-default"))
    for user_id, loan_id in (("user-1", loan.loan_id), ("user-2", defaulted.loan_id)):
        result = world.bus.handle(ReconcileLoan(user_id, loan_id))
        assert result.matches, result.problems
    assert world.alerts(Severity.CRITICAL) == []
