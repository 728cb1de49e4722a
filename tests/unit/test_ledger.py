import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loc_core.errors import LedgerError
from loc_core.ledger import (
    CLEARING,
    FUNDING,
    Bucket,
    JournalEntry,
    Ledger,
    Posting,
    Side,
    income,
    receivable,
)

DAY = dt.date(2026, 1, 5)


def disbursement(entry_id: str = "loan-1:disburse") -> JournalEntry:
    return JournalEntry.build(
        entry_id=entry_id,
        kind="disbursement",
        effective_date=DAY,
        reference="loan-1",
        debits={
            receivable("loan-1", Bucket.PRINCIPAL): 30_000,
            receivable("loan-1", Bucket.ORIGINATION_FEE): 1_500,
        },
        credits={FUNDING: 30_000, income(Bucket.ORIGINATION_FEE): 1_500},
    )


def test_an_unbalanced_entry_cannot_be_made() -> None:
    with pytest.raises(LedgerError, match="does not balance: debits 100 != credits 99"):
        JournalEntry.build(
            entry_id="x",
            kind="payment",
            effective_date=DAY,
            reference="loan-1",
            debits={CLEARING: 100},
            credits={receivable("loan-1", Bucket.PRINCIPAL): 99},
        )


def test_postings_must_be_positive_integer_cents() -> None:
    with pytest.raises(LedgerError, match="positive integer cents"):
        Posting(CLEARING, Side.DEBIT, 0)
    with pytest.raises(LedgerError, match="positive integer cents"):
        Posting(CLEARING, Side.DEBIT, 1.5)  # type: ignore[arg-type]  # floats must be refused at runtime


def test_balances_follow_postings_and_the_books_balance() -> None:
    ledger = Ledger()
    ledger.post(disbursement())
    assert ledger.balance(receivable("loan-1", Bucket.PRINCIPAL)) == 30_000
    assert ledger.balance(FUNDING) == -30_000
    assert sum(ledger.balances("receivable:loan-1:").values()) == 31_500
    assert ledger.trial_balance() == 0


def test_the_same_entry_cannot_be_posted_twice() -> None:
    ledger = Ledger([disbursement()])
    with pytest.raises(LedgerError, match="already posted"):
        ledger.post(disbursement())
    assert ledger.balance(FUNDING) == -30_000
    assert len(ledger) == 1


def test_a_reversal_undoes_an_entry_exactly() -> None:
    ledger = Ledger([disbursement()])
    ledger.post(disbursement().reversal(entry_id="undo", kind="reversal", effective_date=DAY))
    assert ledger.balances() == {}
    assert disbursement().net(FUNDING) == -30_000


def test_digest_depends_on_content_and_order() -> None:
    first, second = disbursement("a"), disbursement("b")
    assert Ledger([first, second]).digest() == Ledger([first, second]).digest()
    assert Ledger([first, second]).digest() != Ledger([second, first]).digest()


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)), max_size=30))
def test_any_sequence_of_balanced_entries_keeps_the_trial_balance_at_zero(
    amounts: list[tuple[int, int]],
) -> None:
    ledger = Ledger()
    for index, (principal, fee) in enumerate(amounts):
        ledger.post(
            JournalEntry.build(
                entry_id=str(index),
                kind="payment",
                effective_date=DAY,
                reference="loan-1",
                debits={CLEARING: principal + fee},
                credits={
                    receivable("loan-1", Bucket.PRINCIPAL): principal,
                    receivable("loan-1", Bucket.LATE_FEE): fee,
                },
            )
        )
    assert ledger.trial_balance() == 0
    assert ledger.balance(CLEARING) == sum(p + f for p, f in amounts)


def test_entries_since_a_position_and_the_running_trial_balance() -> None:
    ledger = Ledger([disbursement("a"), disbursement("b")])
    assert [e.entry_id for e in ledger.entries(1)] == ["b"]
    assert ledger.entries(2) == []
    assert ledger.trial_balance() == 0
