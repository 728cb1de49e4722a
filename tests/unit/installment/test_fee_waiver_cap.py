"""The loan's late-fee cap counts a waived fee from its own day to the day it is waived."""

import datetime as dt
from decimal import Decimal

from loc_core.installment import InstallmentProduct, Loan, Process
from loc_core.ledger import Ledger
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.installment import ledger_problems, make_loan


def test_a_waiver_frees_its_room_for_later_fees_and_never_raises_an_earlier_one() -> None:
    # a cap of 1 % of $300: the first fee takes 263 cents, the second the last 37
    loan = make_loan(product=InstallmentProduct(late_fee_cap_percent=Decimal(1)))
    books = Ledger(loan.outbox.drain().entries)
    day = dt.date(2026, 1, 20)
    while day <= dt.date(2026, 2, 28):
        loan.run_daily(day)
        day += dt.timedelta(days=1)
    books.post_all(loan.outbox.drain().entries)
    assert [i.late_fee for i in loan.installments[:4]] == [263, 37, 0, 0]

    loan.waive_late_fee(
        loan.installments[0].installment_id,
        reason="goodwill",
        idempotency_key="waive-1",
        today=dt.date(2026, 3, 1),
        posted=list(books),
    )
    books.post_all(loan.outbox.drain().entries)
    # the fees assessed before the waiver stay as they were charged
    assert [i.late_fee for i in loan.installments[:4]] == [0, 37, 0, 0]

    loan.run_daily(dt.date(2026, 3, 9))  # the fourth installment, overdue on 03-07
    books.post_all(loan.outbox.drain().entries)
    assert [i.late_fee for i in loan.installments[:4]] == [0, 37, 0, 263]
    assert loan.late_fees_assessed == 300
    assert ledger_problems(loan, books) == []


def test_a_waiver_booked_the_day_the_cap_cut_a_fee_never_raises_that_fee() -> None:
    # the second installment's fee is cut to the cap's last 37 cents on 02-07 by that
    # day's job; the first fee is waived later that day: the 37 cents stay 37, in the
    # waiver's own replay and in every later one (the room is free from 02-08)
    loan = make_loan(product=InstallmentProduct(late_fee_cap_percent=Decimal(1)))
    books = Ledger(loan.outbox.drain().entries)
    day = dt.date(2026, 1, 20)
    while day <= dt.date(2026, 2, 7):
        loan.run_daily(day)
        day += dt.timedelta(days=1)
    books.post_all(loan.outbox.drain().entries)
    assert [i.late_fee for i in loan.installments[:3]] == [263, 37, 0]

    loan.waive_late_fee(
        loan.installments[0].installment_id,
        reason="goodwill",
        idempotency_key="waive-1",
        today=dt.date(2026, 2, 7),
        posted=list(books),
    )
    books.post_all(loan.outbox.drain().entries)
    assert [i.late_fee for i in loan.installments[:3]] == [0, 37, 0]

    loan.correct(
        cause="later",
        effective=dt.date(2026, 2, 1),
        today=dt.date(2026, 2, 10),
        posted=list(books),
        reason="any later replay",
    )
    books.post_all(loan.outbox.drain().entries)
    assert [i.late_fee for i in loan.installments[:3]] == [0, 37, 0]
    loan.run_daily(dt.date(2026, 2, 22))  # the third installment's fee takes the room
    books.post_all(loan.outbox.drain().entries)
    assert [i.late_fee for i in loan.installments[:3]] == [0, 37, 263]
    assert ledger_problems(loan, books) == []


def _days_pass(loan: Loan, books: Ledger, start: dt.date, end: dt.date) -> None:
    """The daily job runs on each day after `start` through `end`; its entries are posted."""
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        loan.run_daily(day)
    books.post_all(loan.outbox.drain().entries)


def _waive(loan: Loan, books: Ledger, number: int, today: dt.date) -> None:
    loan.waive_late_fee(
        f"loan-1:{number}",
        reason="goodwill",
        idempotency_key=f"waive-{number}",
        today=today,
        posted=list(books),
    )
    books.post_all(loan.outbox.drain().entries)


def test_a_waived_fee_holds_its_room_only_from_its_own_day_so_no_other_fee_rises() -> None:
    # cap 300: the first fee takes 263, the second the last 37; the first is waived on
    # 02-09, so the third (02-22) takes the freed 263 and the fourth (03-07) gets none.
    # Waiving the third on 03-09 leaves every other fee as charged: its 263 held the
    # cap from 02-22, not before (the second's 37 was charged on 02-07, before it
    # existed), so the fourth is not charged the 37 the second would otherwise lose.
    loan = make_loan(product=InstallmentProduct(late_fee_cap_percent=Decimal(1)))
    books = Ledger(loan.outbox.drain().entries)
    _days_pass(loan, books, loan.disbursement_date, dt.date(2026, 2, 9))
    _waive(loan, books, 1, dt.date(2026, 2, 9))
    _days_pass(loan, books, dt.date(2026, 2, 9), dt.date(2026, 3, 9))
    assert [i.late_fee for i in loan.installments] == [0, 37, 263, 0, 0, 0]

    _waive(loan, books, 3, dt.date(2026, 3, 9))

    assert [i.late_fee for i in loan.installments] == [0, 37, 0, 0, 0, 0]
    assert ledger_problems(loan, books) == []


def test_a_correction_after_a_waiver_charges_the_fees_before_the_waived_one_in_full() -> None:
    # the first installment is paid on its due date; the second's fee (263, 02-07) is
    # waived on 02-09 and the third takes the whole room (263, 02-22). The payment comes
    # back on 02-25: reversed as of 01-20, the first is overdue on 01-25, when nothing
    # else was charged (the waived fee came two weeks later): its full 263, the
    # waived fee's room then held (37) until 02-09, the third the cap's last 37.
    loan = make_loan(product=InstallmentProduct(late_fee_cap_percent=Decimal(1)))
    books = Ledger(loan.outbox.drain().entries)
    _days_pass(loan, books, loan.disbursement_date, dt.date(2026, 1, 20))
    loan.apply_payment(
        "pay-1", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=dt.date(2026, 1, 20)
    )
    _days_pass(loan, books, dt.date(2026, 1, 20), dt.date(2026, 2, 9))
    _waive(loan, books, 2, dt.date(2026, 2, 9))
    _days_pass(loan, books, dt.date(2026, 2, 9), dt.date(2026, 2, 25))
    assert [i.late_fee for i in loan.installments] == [0, 0, 263, 0, 0, 0]

    _returned(loan, books, "pay-1", paid_on=dt.date(2026, 1, 20), today=dt.date(2026, 2, 25))

    assert [i.late_fee for i in loan.installments] == [263, 0, 37, 0, 0, 0]
    assert loan.late_fees_assessed == 300
    assert ledger_problems(loan, books) == []


def test_the_lifecycle_machines_waiver_leaves_the_other_fees_as_charged() -> None:
    # The steps of the `LoanLifecycle` run that found it: $26.29 in 8, a cap of 17
    # cents; fees of 8 on installments 1 and 2, 1 on the third (the cap's rest); both
    # first fees waived (02-29, 03-28), which let the fifth and seventh take 8 each; a
    # payment returned as of 02-29. Waiving the seventh's 8 on 04-27 raised the eighth's
    # fee from 0 to 8 (and cut the third's and fifth's) before the fix.
    product = InstallmentProduct(
        min_installments=1,
        max_installments=9,
        default_installments=1,
        grace_days=3,
        late_fee_fixed=664,
        late_fee_percent=Decimal("2.42"),
        late_fee_cap_percent=Decimal("0.65"),
        default_after_days=64,
        max_collection_attempts=1,
    )
    loan = make_loan(
        loan_amount=2_629, fee=65, count=8, disbursed_on=dt.date(2024, 1, 1), product=product
    )
    books = Ledger(loan.outbox.drain().entries)

    def pay(payment_id: str, amount: int, today: dt.date) -> None:
        loan.apply_payment(payment_id, amount, process=Process.MANUAL, rail=Rail.ACH, today=today)
        books.post_all(loan.outbox.drain().entries)

    _days_pass(loan, books, loan.disbursement_date, dt.date(2024, 2, 29))
    _waive(loan, books, 1, dt.date(2024, 2, 29))
    pay("pay-1", 227, dt.date(2024, 2, 29))
    pay("pay-2", 807, dt.date(2024, 2, 29))
    _days_pass(loan, books, dt.date(2024, 2, 29), dt.date(2024, 3, 14))
    pay("pay-3", 710, dt.date(2024, 3, 14))
    _days_pass(loan, books, dt.date(2024, 3, 14), dt.date(2024, 3, 28))
    pay("pay-4", 1, dt.date(2024, 3, 28))
    pay("pay-5", loan.outstanding_balance, dt.date(2024, 3, 28))
    _waive(loan, books, 2, dt.date(2024, 3, 28))
    _returned(loan, books, "pay-2", paid_on=dt.date(2024, 2, 29), today=dt.date(2024, 4, 27))
    assert [i.late_fee for i in loan.installments] == [0, 0, 1, 0, 8, 0, 8, 0]

    _waive(loan, books, 7, dt.date(2024, 4, 27))

    assert [i.late_fee for i in loan.installments] == [0, 0, 1, 0, 8, 0, 0, 0]
    assert ledger_problems(loan, books) == []


def test_a_backdated_payment_frees_the_room_of_a_fee_that_never_was_for_the_next() -> None:
    # Unlike a waiver, a payment keyed late is a fact about its day: the first
    # installment was paid on time, so the second, missed, is charged its whole fee,
    # as it would have been had the payment been known then.
    loan = make_loan(product=InstallmentProduct(late_fee_cap_percent=Decimal(1)))
    books = Ledger(loan.outbox.drain().entries)
    _days_pass(loan, books, loan.disbursement_date, dt.date(2026, 2, 10))
    assert [i.late_fee for i in loan.installments[:3]] == [263, 37, 0]

    _check_keyed_late(loan, books, today=dt.date(2026, 2, 10))

    assert [i.late_fee for i in loan.installments[:3]] == [0, 263, 0]
    assert ledger_problems(loan, books) == []


def test_a_waived_fee_holds_what_the_corrected_history_charges_it_not_the_cents_waived() -> None:
    # fees of 263 and 37 (cut), the third none (02-22); the second's 37 is waived on
    # 02-25. A check keyed late shows the first paid on time: corrected, the second
    # would have been charged 263, so until 02-25 the waived fee holds 263 and the
    # third, assessed before the waiver, is charged the 37 left, as it would be without
    # the waiver (holding only the 37 waived, the third would rise to 263).
    loan = make_loan(product=InstallmentProduct(late_fee_cap_percent=Decimal(1)))
    books = Ledger(loan.outbox.drain().entries)
    _days_pass(loan, books, loan.disbursement_date, dt.date(2026, 2, 25))
    _waive(loan, books, 2, dt.date(2026, 2, 25))
    assert [i.late_fee for i in loan.installments[:4]] == [263, 0, 0, 0]

    _check_keyed_late(loan, books, today=dt.date(2026, 2, 26))

    assert [i.late_fee for i in loan.installments[:4]] == [0, 0, 37, 0]
    assert ledger_problems(loan, books) == []


def _check_keyed_late(loan: Loan, books: Ledger, *, today: dt.date) -> None:
    """A mailed check that paid the first installment on its due date, keyed `today`."""
    loan.book_backdated_payment(
        "check-1",
        5_250,
        rail=Rail.ACH,
        effective_on=dt.date(2026, 1, 20),
        today=today,
        posted=list(books),
        reason="mailed check keyed late",
    )
    books.post_all(loan.outbox.drain().entries)


def _returned(
    loan: Loan, books: Ledger, payment_id: str, *, paid_on: dt.date, today: dt.date
) -> None:
    """`payment_id`'s ACH return heard `today`, corrected as of the day it was paid."""
    loan.settle(payment_id, SettlementOutcome.RETURNED, today=today)
    loan.correct(
        cause=f"{payment_id}:returned",
        effective=paid_on,
        today=today,
        posted=list(books),
        reason=f"payment {payment_id} RETURNED",
    )
    books.post_all(loan.outbox.drain().entries)
