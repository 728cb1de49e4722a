"""Errors say what they are about in attributes, so no caller parses a message."""

import datetime as dt
import pickle

import pytest
from fakes import line_offer, opened_line

from loc_adapters.memory import InMemoryLock, ManualClock
from loc_core.errors import (
    DuplicatePayment,
    InsufficientCredit,
    InvariantViolation,
    LockNotAcquired,
    NotEligible,
    NotFound,
)
from loc_core.installment import Process
from loc_core.payments import Rail
from loc_core.services import loans as loan_services
from loc_core.testing.installment import make_loan

NOW = dt.datetime(2026, 1, 19, 15, tzinfo=dt.UTC)
DAY = NOW.date()


def test_a_plain_message_still_raises_and_carries_no_context() -> None:
    error = NotFound("no such thing")
    assert str(error) == "no such thing"
    assert (error.entity, error.entity_id, error.user_id, error.key, error.invariant) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert error.context == {}


def test_the_context_survives_pickling_for_partitioned_runs() -> None:
    error = NotFound("no loan", entity="loan", entity_id="loan-9", user_id="user-1")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, just written
    assert str(copy) == "no loan"
    assert copy.context == {"entity": "loan", "entity_id": "loan-9", "user_id": "user-1"}


def test_not_eligible_keeps_its_reasons_and_names_the_user() -> None:
    error = NotEligible(("user_inactive",), user_id="user-1")
    assert error.reasons == ("user_inactive",)
    assert error.user_id == "user-1"


def test_an_inconsistent_loan_names_itself_its_borrower_and_the_rule() -> None:
    loan = make_loan(loan_id="loan-7", user_id="user-3")
    loan.installments[0].outstanding_balance += 1
    with pytest.raises(InvariantViolation) as broken:
        loan.verify()
    assert broken.value.context == {
        "entity": "loan",
        "entity_id": "loan-7",
        "user_id": "user-3",
        "invariant": "loan_consistent",
    }


def test_a_missing_installment_and_a_repeated_payment_name_what_they_are_about() -> None:
    loan = make_loan(loan_id="loan-7", user_id="user-3")
    with pytest.raises(NotFound) as missing:
        loan.installment("inst-404")
    assert (missing.value.entity, missing.value.entity_id, missing.value.user_id) == (
        "installment",
        "inst-404",
        "user-3",
    )
    loan.apply_payment("pay-1", 1_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    with pytest.raises(DuplicatePayment) as repeated:
        loan.apply_payment("pay-1", 1_000, process=Process.MANUAL, rail=Rail.ACH, today=DAY)
    assert (repeated.value.entity, repeated.value.entity_id, repeated.value.user_id) == (
        "payment",
        "pay-1",
        "user-3",
    )


def test_a_draw_above_the_available_credit_names_the_line_and_its_borrower() -> None:
    line = opened_line(line_offer(NOW, user_id="user-5", credit_limit=10_000), line_id="line-5")
    with pytest.raises(InsufficientCredit) as refused:
        line.request_draw(draw_id="draw-1", amount=10_001, on=DAY)
    assert (refused.value.entity, refused.value.entity_id, refused.value.user_id) == (
        "line",
        "line-5",
        "user-5",
    )


def test_a_receipt_for_a_payment_the_loan_never_saw_names_payment_and_borrower() -> None:
    loan = make_loan(loan_id="loan-7", user_id="user-3")
    with pytest.raises(NotFound) as missing:
        loan_services.receipt(loan, "pay-404", as_of=DAY)
    assert (missing.value.entity, missing.value.entity_id, missing.value.user_id) == (
        "payment",
        "pay-404",
        "user-3",
    )


def test_a_held_lease_names_its_key() -> None:
    lock = InMemoryLock(ManualClock(NOW))
    lock.acquire("loc-collections:user_id:u:item_id:l", owner="a", ttl=dt.timedelta(minutes=1))
    with pytest.raises(LockNotAcquired) as held:
        lock.acquire("loc-collections:user_id:u:item_id:l", owner="b", ttl=dt.timedelta(minutes=1))
    assert (held.value.entity, held.value.key) == ("lease", "loc-collections:user_id:u:item_id:l")
