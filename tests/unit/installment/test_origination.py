import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fakes import refused

from loc_core.errors import (
    ApplicationAlreadyConverted,
    ApplicationExpired,
    DomainError,
    InvalidConfiguration,
    InvalidTimestamp,
    ScheduleError,
)
from loc_core.events import EventType
from loc_core.installment import (
    InstallmentProduct,
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanStatus,
    OriginationFee,
    Process,
    check_origination,
    originate,
)
from loc_core.ledger import FUNDING, Bucket, Ledger, income, receivable
from loc_core.payments import Rail

APPROVED_AT = dt.datetime(2026, 1, 2, 15, tzinfo=dt.UTC)
ACCEPTED_AT = dt.datetime(2026, 1, 3, 9, tzinfo=dt.UTC)
PRODUCT = InstallmentProduct()


def offer(fee: int = 1_500, count: int = 6) -> LoanApplication:
    application = LoanApplication.approve(
        product=PRODUCT,
        user_id="user-1",
        application_id="app-1",
        loan_number="FM-000042",
        loan_amount=30_000,
        fee=OriginationFee.fixed(fee),
        now=APPROVED_AT,
        installment_count=count,
    )
    application.outbox.drain()
    return application


def accept(
    application: LoanApplication,
    *,
    now: dt.datetime = ACCEPTED_AT,
    installment_id: Callable[[int], str] = lambda number: f"inst-{number}",
    **changes: object,
) -> Loan:
    arguments: dict[str, object] = {
        "product": PRODUCT,
        "loan_id": "loan-1",
        "disbursed_on": dt.date(2026, 1, 5),
        "rail": Rail.ACH,
        "confirmation_id": "conf-9",
        "autopay_enabled": True,
        "account_last_four": "6789",
    }
    arguments.update(changes)
    return originate(application, now=now, installment_id=installment_id, **arguments)  # type: ignore[arg-type]  # tests pass bad types


def test_accepting_an_offer_disburses_an_open_loan() -> None:
    application = offer()
    loan = accept(application)
    assert loan.status is LoanStatus.OPEN
    assert (loan.loan_number, loan.application_id) == ("FM-000042", "app-1")
    assert (loan.loan_amount, loan.origination_fee, loan.total_amount) == (30_000, 1_500, 31_500)
    assert loan.amount_disbursed == 30_000
    assert loan.outstanding_balance == 31_500
    assert loan.disbursement_method is Rail.ACH
    assert loan.autopay_enabled
    assert [
        (i.installment_id, i.total_amount, i.principal, i.origination_fee)
        for i in loan.installments
    ] == [(f"inst-{n}", 5_250, 5_000, 250) for n in range(1, 7)]
    assert all(i.status is InstallmentStatus.SCHEDULED for i in loan.installments)
    assert all(i.process is Process.CREATION for i in loan.installments)
    assert application.loan_id == "loan-1"


def test_the_schedule_is_rebuilt_from_the_actual_disbursement_date() -> None:
    application = offer()
    assert application.proposed_schedule[0].due_date == dt.date(2026, 1, 16)
    loan = accept(application, disbursed_on=dt.date(2026, 1, 5))
    assert [i.due_date for i in loan.installments] == [
        dt.date(2026, 1, 20),
        dt.date(2026, 2, 2),
        dt.date(2026, 2, 17),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 16),
        dt.date(2026, 3, 30),
    ]


def test_the_fee_is_spread_front_loaded_and_principal_takes_the_rest() -> None:
    loan = accept(offer(fee=1_501))
    assert [i.total_amount for i in loan.installments] == [5_251, 5_250, 5_250, 5_250, 5_250, 5_250]
    assert [i.origination_fee for i in loan.installments] == [251, 250, 250, 250, 250, 250]
    assert [i.principal for i in loan.installments] == [5_000] * 6
    assert sum(i.principal for i in loan.installments) == 30_000


def test_the_disbursement_is_booked_audited_and_announced() -> None:
    application = offer()
    loan = accept(application)
    recorded = loan.outbox.drain()
    [entry] = recorded.entries
    assert entry.entry_id == "loan-1:disburse"
    assert entry.effective_date == dt.date(2026, 1, 5)
    ledger = Ledger([entry])
    assert ledger.balances() == {
        FUNDING: -30_000,
        income(Bucket.ORIGINATION_FEE): -1_500,
        receivable("loan-1", Bucket.ORIGINATION_FEE): 1_500,
        receivable("loan-1", Bucket.PRINCIPAL): 30_000,
    }
    assert [(c.entity, c.entity_id, c.process) for c in recorded.changes] == [
        ("loan", "loan-1", "CREATION"),
        *[("installment", f"inst-{n}", "CREATION") for n in range(1, 7)],
    ]
    assert all(field.old is None for change in recorded.changes for field in change.fields)
    [event] = recorded.events
    assert event.type is EventType.LOAN_DISBURSED
    assert event.data["amount_disbursed"] == 30_000
    assert event.data["first_due_date"] == "2026-01-20"
    [conversion] = application.outbox.changes
    assert (conversion.entity, conversion.reason) == ("application", "converted to loan loan-1")


def test_an_offer_becomes_a_loan_only_once() -> None:
    application = offer()
    accept(application)
    with refused(application, ApplicationAlreadyConverted):
        accept(application, loan_id="loan-2")


def test_an_expired_offer_disburses_nothing() -> None:
    application = offer()
    with refused(application, ApplicationExpired):
        accept(application, now=APPROVED_AT + dt.timedelta(hours=24))


_REFUSALS: list[tuple[dict[str, object], type[Exception], str]] = [
    ({"rail": "ach"}, DomainError, "rail must be a Rail"),
    ({"account_last_four": "12345"}, DomainError, "account_last_four must be four digits"),
    ({"autopay_enabled": 1}, DomainError, "autopay_enabled must be a bool"),
    ({"disbursed_on": dt.date(2026, 1, 1)}, InvalidTimestamp, "before the application"),
    (
        {"product": InstallmentProduct(max_installments=5, default_installments=5)},
        ScheduleError,
        "within 4..5, got 6",
    ),
    ({"now": APPROVED_AT + dt.timedelta(hours=24)}, ApplicationExpired, "expired"),
]
"""Offers or arguments `originate` refuses whatever the ids (what `check_origination` sees)."""


@pytest.mark.parametrize(("changes", "error", "message"), _REFUSALS)
def test_the_check_refuses_what_origination_refuses_and_changes_nothing(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = dict(changes)
    application = offer()
    with refused(application, error, match=message):
        accept(application, **arguments)
    checked: dict[str, Any] = {
        "product": PRODUCT,
        "disbursed_on": dt.date(2026, 1, 5),
        "rail": Rail.ACH,
        "now": ACCEPTED_AT,
        "autopay_enabled": True,
        **arguments,
    }
    with refused(application, error, match=message):
        check_origination(application, **checked)


def test_the_check_passes_an_acceptable_offer_and_changes_nothing() -> None:
    application = offer()
    before = copy.deepcopy(application)
    check_origination(
        application,
        product=PRODUCT,
        disbursed_on=dt.date(2026, 1, 5),
        rail=Rail.PINLESS,
        now=ACCEPTED_AT,
        autopay_enabled=True,
    )
    assert application == before
    assert accept(application).status is LoanStatus.OPEN


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"loan_id": ""}, DomainError, "loan_id must be a non-empty string"),
        ({"confirmation_id": " "}, DomainError, "confirmation_id must be a non-empty"),
        ({"rail": "ach"}, DomainError, "rail must be a Rail"),
        ({"account_last_four": "12345"}, DomainError, "account_last_four must be four digits"),
        ({"autopay_enabled": 1}, DomainError, "autopay_enabled must be a bool"),
        ({"disbursed_on": dt.date(2026, 1, 1)}, InvalidTimestamp, "before the application"),
        ({"installment_id": lambda _n: "same"}, InvalidConfiguration, "must be unique"),
        ({"installment_id": lambda _n: ""}, DomainError, "installment id must be a non-empty"),
        (
            {"product": InstallmentProduct(max_installments=5, default_installments=5)},
            ScheduleError,
            "within 4..5, got 6",
        ),
    ],
)
def test_bad_arguments_leave_the_offer_unconverted(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    application = offer()
    arguments: dict[str, Any] = dict(changes)
    with refused(application, error, match=message):
        accept(application, **arguments)
