"""The loan's late-fee cap counts only fees not waived, from the day a waiver is booked."""

import datetime as dt
from decimal import Decimal

from loc_core.installment import InstallmentProduct
from loc_core.ledger import Ledger
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
