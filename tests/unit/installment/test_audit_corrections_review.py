"""An auditor's review of installment-loan corrections: what the books and records say.

A correction must leave the loan as a replay of its own facts would (so a later, unrelated
correction moves nothing), its audit trail must say what the stored records say, and the
borrower must hear of a refund due whichever way it arose.
"""

import datetime as dt

from fakes import returned
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loc_core.errors import DomainError
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus, Loan, Process
from loc_core.installment.replay import replay
from loc_core.ledger import Bucket, Ledger, income, refund_due
from loc_core.payments import Rail
from loc_core.testing.installment import balances_and_statuses, ledger_problems, make_loan

FIRST_DUE = dt.date(2026, 1, 20)
OVERDUE_ON = dt.date(2026, 1, 25)  # five days of grace
DAY = dt.timedelta(days=1)


def post(loan: Loan, ledger: Ledger) -> None:
    ledger.post_all(loan.outbox.drain().entries)


def run_jobs(loan: Loan, first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        loan.run_daily(day)
        day += DAY


# --- a correction booked on the day, before the daily job ----------------------------


def first_installment(loan: Loan) -> tuple[object, ...]:
    """The first installment's balances, status and what paid it."""
    first = loan.installments[0]
    return (
        first.status,
        first.late_fee,
        first.outstanding_balance,
        first.overdue_on,
        tuple(first.applications),
    )


def test_a_fee_paid_after_a_same_day_correction_survives_a_later_unrelated_correction() -> None:
    """The return learned on the overdue day charges the fee at once; the borrower pays it.

    A payment booked after that correction is replayed after the day's job, so an
    unrelated correction a week later leaves the fee charged and paid, as lived.
    """
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    loan.apply_payment("pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=FIRST_DUE)
    run_jobs(loan, FIRST_DUE, OVERDUE_ON - DAY)
    post(loan, ledger)
    returned(loan, ledger, "pay-1", today=OVERDUE_ON)  # before the day's job
    post(loan, ledger)
    assert (loan.installments[0].status, loan.installments[0].late_fee) == (
        InstallmentStatus.OVERDUE,
        263,
    )
    loan.apply_payment("pay-2", 5_513, process=Process.MANUAL, rail=Rail.ACH, today=OVERDUE_ON)
    loan.run_daily(OVERDUE_ON)
    post(loan, ledger)
    lived = first_installment(loan)

    loan.book_backdated_payment(
        "mailed-1",
        100,
        rail=Rail.ACH,
        effective_on=dt.date(2026, 1, 30),
        today=dt.date(2026, 2, 1),
        posted=list(ledger),
        reason="check received on the 30th",
    )

    recorded = loan.outbox.drain()
    assert [entry.entry_id for entry in recorded.entries] == ["mailed-1:apply"]  # no adjust
    assert loan.installments[0].late_fee == 263
    assert loan.installments[0].status is InstallmentStatus.COMPLETED
    assert first_installment(loan) == lived
    ledger.post_all(recorded.entries)
    assert ledger_problems(loan, ledger) == []
    assert ledger.balance(income(Bucket.LATE_FEE)) == -263


# --- refunds due a correction creates or moves ---------------------------------------


def test_a_refund_due_that_a_backdated_payment_leaves_is_announced() -> None:
    """Paid in full today, fee included; received before the fee: 263 cents owed back."""
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    run_jobs(loan, dt.date(2026, 1, 5), dt.date(2026, 1, 30))
    post(loan, ledger)
    owed = loan.outstanding_balance
    assert owed == 31_500 + 263
    loan.book_backdated_payment(
        "mailed-1",
        owed,
        rail=Rail.ACH,
        effective_on=dt.date(2026, 1, 19),
        today=dt.date(2026, 1, 31),
        posted=list(ledger),
        reason="payoff received on the 19th",
    )
    recorded = loan.outbox.drain()
    refunds = [event for event in recorded.events if event.type is EventType.REFUND_DUE]
    assert [(event.subject_id, event.data["amount"]) for event in refunds] == [("mailed-1", 263)]
    assert loan.refunds_due == 263
    ledger.post_all(recorded.entries)
    assert ledger.balance(refund_due("loan-1")) == -263
    assert ledger_problems(loan, ledger) == []


def test_a_refund_due_a_correction_moves_to_another_payment_is_announced_on_that_one() -> None:
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    loan.apply_payment(
        "payoff", 31_500, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 10)
    )
    post(loan, ledger)
    loan.book_backdated_payment(
        "mailed-1",
        5_000,
        rail=Rail.ACH,
        effective_on=dt.date(2026, 1, 8),
        today=dt.date(2026, 1, 12),
        posted=list(ledger),
        reason="check received on the 8th",
    )
    recorded = loan.outbox.drain()
    refunds = [
        (event.subject_id, event.data["amount"], event.data["payment_amount"])
        for event in recorded.events
        if event.type is EventType.REFUND_DUE
    ]
    assert refunds == [("payoff", 5_000, 31_500)]
    assert loan.payments["mailed-1"].refund is None
    ledger.post_all(recorded.entries)
    assert ledger_problems(loan, ledger) == []


# --- the property: what lived is what its facts replay to ----------------------------

Action = tuple[str, int, int]
"""(kind, amount or payment index, days back): one thing that happens on a day."""

ACTIONS = st.one_of(
    st.tuples(st.just("pay"), st.integers(1, 9_000), st.just(0)),
    st.tuples(st.just("return"), st.integers(0, 7), st.just(0)),
    st.tuples(st.just("backdate"), st.integers(1, 9_000), st.integers(0, 20)),
)


OVERDUE_DAYS = st.sampled_from([20, 33, 48, 61, 75, 89])
"""Days (after disbursement) the example loan's installments become overdue: where the
order of a payment, a correction and the day's job decides a late fee."""
DAYS = st.one_of(st.integers(10, 120), OVERDUE_DAYS, st.integers(15, 89))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=st.dictionaries(
        DAYS,
        st.tuples(st.lists(ACTIONS, max_size=3), st.integers(0, 3)),
        max_size=12,
    ),
    via=st.lists(st.sampled_from([Rail.ACH, Rail.PINLESS]), min_size=8, max_size=8),
)
@example(  # paid on the 15th, returned on the overdue day before the job, paid again
    plan={15: ([("pay", 5_250, 0)], 1), 20: ([("return", 0, 0), ("pay", 5_513, 0)], 2)},
    via=[Rail.ACH] * 8,
)
def test_a_later_correction_moves_nothing_that_was_lived(
    plan: dict[int, tuple[list[Action], int]], via: list[Rail]
) -> None:
    """Payments, returns and backdated payments in any order around the daily job.

    At the end, a correction that adds no fact finds the books, balances, fees and
    statuses exactly as lived: nothing charged live is reversed, nothing waived charged.
    """
    disbursed = dt.date(2026, 1, 5)
    loan = make_loan()
    ledger = Ledger(loan.outbox.drain().entries)
    paid: list[str] = []
    for offset in range(131):
        today = disbursed + DAY * offset
        actions, job_at = plan.get(offset, ([], 0))
        for position in range(len(actions) + 1):
            if position == min(job_at, len(actions)):
                loan.run_daily(today)
                post(loan, ledger)
            if position == len(actions):
                break
            kind, number, back = actions[position]
            try:
                if kind == "pay":
                    payment_id = f"pay-{len(paid)}"
                    loan.book_moved_payment(
                        payment_id,
                        number,
                        process=Process.MANUAL,
                        rail=via[len(paid) % len(via)],
                        today=today,
                    )
                    paid.append(payment_id)
                elif kind == "return" and number < len(paid):
                    returned(loan, ledger, paid[number], today=today)
                elif kind == "backdate":
                    payment_id = f"back-{len(paid)}"
                    loan.book_backdated_payment(
                        payment_id,
                        number,
                        rail=via[len(paid) % len(via)],
                        effective_on=max(today - DAY * back, disbursed),
                        today=today,
                        posted=list(ledger),
                        reason="received earlier",
                    )
                    paid.append(payment_id)
            except DomainError:
                loan.outbox.drain()  # refused: nothing changed (a second return)
                continue
            post(loan, ledger)
            assert ledger_problems(loan, ledger) == []
    last = disbursed + DAY * 130
    lived = balances_and_statuses(loan)
    fees = [installment.late_fee for installment in loan.installments]
    assert balances_and_statuses(replay(loan, through=last)) == lived
    assert (
        loan.correct(
            cause="audit", effective=last, today=last, posted=list(ledger), reason="no new fact"
        )
        is None
    )
    assert balances_and_statuses(loan) == lived
    assert [installment.late_fee for installment in loan.installments] == fees
