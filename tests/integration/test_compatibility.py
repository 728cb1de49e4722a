"""The table the Go service writes: its items read into the domain; ours look like its own.

Items here are written in DynamoDB's wire format exactly as the seeds document them
(``loc_*`` names, ``USER#``/``LOAN#`` keys, integers for cents, a float for
``loc_fee_percent``, RFC3339 strings for timestamps, ``YYYY-MM-DD`` for due dates), and
nothing more: no version, no bucket split, no installment number.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from contracts.uow import UowFactory, pay

from loc_adapters.dynamodb import DynamoTable
from loc_core.applications import ApplicationStatus
from loc_core.installment import (
    FeeType,
    InstallmentProduct,
    InstallmentStatus,
    LoanStatus,
    OriginationFee,
    PaymentApplication,
)
from loc_core.payments import Rail
from loc_core.testing.installment import make_loan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

USER = "u-1"
LOAN = "0b6f1f2e-loan"
APP = "7c1d-app"
DUE = ["2024-01-19", "2024-02-02", "2024-02-16", "2024-03-01", "2024-03-15", "2024-03-29"]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int | str) -> dict[str, str]:
    return {"N": str(value)}


def seed_loan(**overrides: dict[str, Any]) -> dict[str, Any]:
    """A loan as the Go service stores it: the seed's fields and keys, nothing else."""
    created = "2024-01-05T15:04:05Z"
    item: dict[str, Any] = {
        "PK": s(f"USER#{USER}"),
        "SK": s(f"LOAN#{LOAN}"),
        "GSI1PK": s(f"USER#{USER}#STATUS#OPEN"),
        "GSI1SK": s(f"LOAN#DATE#{created}#LOAN#{LOAN}"),
        "GSI2PK": s(f"USER#{USER}"),
        "GSI2SK": s(f"LOAN#DATE#{created}#LOAN#{LOAN}"),
        "GSI3PK": s(f"USER#{USER}"),
        "GSI3SK": s(f"LOAN#LOANAPP#{APP}"),
        "loc_user_id": s(USER),
        "loc_loan_id": s(LOAN),
        "loc_loan_application_id": s(APP),
        "loc_loan_number": s("FM-000042"),
        "loc_loan_amount": n(30_000),
        "loc_origination_fee": n(1_500),
        "loc_fee_percent": n("5.0"),
        "loc_fee_type": s("percentage"),
        "loc_total_amount": n(31_500),
        "loc_amount_disbursed": n(30_000),
        "loc_outstanding_balance": n(26_013),
        "loc_status": s("OPEN"),
        "loc_repayment_cadence": s("biweekly"),
        "loc_disbursement_date": s("2024-01-05T15:04:05Z"),
        "loc_disbursement_method": s("ach"),
        "loc_completion_date": s(""),
        "loc_account_last_four": s("6789"),
        "loc_confirmation_id": s("conf-1"),
        "auto_pay_enabled": {"BOOL": True},
        "loc_created_date": s(created),
        "loc_last_updated": s("2024-02-10T09:00:00Z"),
        "loc_go_only_attribute": s("kept"),  # something this library does not know
    }
    item.update(overrides)
    return item


def application(payment: str, installment: int, amount: int, date: str) -> dict[str, Any]:
    return {
        "M": {
            "payment_id": s(payment),
            "installment_id": s(f"inst-{installment}"),
            "amount": n(amount),
            "payment_date": s(date),
        }
    }


def seed_installment(number: int, **overrides: dict[str, Any]) -> dict[str, Any]:
    """An installment as the Go service stores it."""
    due = DUE[number - 1]
    item: dict[str, Any] = {
        "PK": s(f"USER#{USER}"),
        "SK": s(f"LOAN#{LOAN}#INSTALLMENT#inst-{number}"),
        "GSI1PK": s("INSTALLMENT#STATUS#SCHEDULED"),
        "GSI1SK": s(f"DUEDATE#{due}#INSTALLMENT#inst-{number}"),
        "GSI2PK": s(f"USER#{USER}"),
        "GSI2SK": s(f"LOAN#{LOAN}#DUEDATE#{due}#INSTALLMENT#inst-{number}"),
        "loc_user_id": s(USER),
        "loc_loan_id": s(LOAN),
        "loc_installment_id": s(f"inst-{number}"),
        "loc_total_amount": n(5_250),
        "loc_outstanding_balance": n(5_250),
        "loc_status": s("SCHEDULED"),
        "loc_due_date": s(due),
        "loc_process": s("CREATION"),
        "loc_applications": {"L": []},
        "loc_update_reason": s(""),
        "loc_created_date": s("2024-01-05T15:04:05Z"),
        "loc_last_updated": s("2024-01-05T15:04:05Z"),
    }
    item.update(overrides)
    return item


def seed_book() -> list[dict[str, Any]]:
    """Installment 1 paid by pay-1; installment 2 overdue with a late fee, paid in part."""
    first = seed_installment(
        1,
        GSI1PK=s("INSTALLMENT#STATUS#COMPLETED"),
        loc_status=s("COMPLETED"),
        loc_outstanding_balance=n(0),
        loc_process=s("AUTOPAY"),
        loc_applications={"L": [application("pay-1", 1, 5_250, "2024-01-19T12:00:00Z")]},
    )
    second = seed_installment(
        2,
        GSI1PK=s("INSTALLMENT#STATUS#OVERDUE"),
        loc_status=s("OVERDUE"),
        loc_total_amount=n(5_513),  # 5,250 and a late fee of 263 (5 %, under $5)
        loc_outstanding_balance=n(5_013),
        loc_process=s("MANUAL"),
        loc_applications={"L": [application("pay-2", 2, 500, "2024-02-10T09:00:00Z")]},
    )
    return [seed_loan(), first, second, *(seed_installment(k) for k in range(3, 7))]


def put_raw(dynamodb: DynamoDBClient, table: DynamoTable, items: list[dict[str, Any]]) -> None:
    for item in items:
        dynamodb.put_item(TableName=table.name, Item=item)


def get_raw(dynamodb: DynamoDBClient, table: DynamoTable, sort_key: str) -> dict[str, Any]:
    """The borrower's item under `sort_key` as stored, every attribute as written."""
    key = {"PK": s(f"USER#{USER}"), "SK": s(sort_key)}
    return dynamodb.get_item(TableName=table.name, Key=key)["Item"]


def our_payment(
    payment: str, amount: int, on: str, split: tuple[int, int, int], inst: int
) -> dict[str, Any]:
    """The seeds document no payment item; the library's own, under the loan."""
    late_fee, fee, principal = split
    return {
        "PK": s(f"USER#{USER}"),
        "SK": s(f"LOAN#{LOAN}#PAYMENT#{payment}"),
        "GSI3PK": s(f"PAYMENT#{payment}"),
        "GSI3SK": s(f"LOAN#{LOAN}"),
        "loc_payment_id": s(payment),
        "loc_user_id": s(USER),
        "loc_loan_id": s(LOAN),
        "loc_amount": n(amount),
        "loc_process": s("AUTOPAY"),
        "loc_rail": s("ach"),
        "loc_submitted_on": s(on),
        "loc_status": s("PENDING"),
        "loc_version": n(0),
        "loc_applications": {
            "L": [
                {
                    "M": {
                        "payment_id": s(payment),
                        "installment_id": s(f"inst-{inst}"),
                        "amount": n(amount),
                        "payment_date": s(f"{on}T00:00:00Z"),
                        "late_fee": n(late_fee),
                        "origination_fee": n(fee),
                        "principal": n(principal),
                    }
                }
            ]
        },
    }


@pytest.fixture
def stored_book(dynamodb: DynamoDBClient, table: DynamoTable) -> None:
    put_raw(dynamodb, table, seed_book())
    put_raw(
        dynamodb,
        table,
        [
            our_payment("pay-1", 5_250, "2024-01-19", (0, 250, 5_000), 1),
            our_payment("pay-2", 500, "2024-02-10", (263, 237, 0), 2),
        ],
    )


@pytest.mark.usefixtures("stored_book")
def test_a_loan_the_go_service_wrote_reads_into_the_domain(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        loan = uow.loans.get(USER, LOAN)
    assert (loan.loan_number, loan.loan_amount, loan.origination_fee) == (
        "FM-000042",
        30_000,
        1_500,
    )
    assert (loan.fee_type, loan.fee_percent) == (FeeType.PERCENTAGE, Decimal("5.0"))
    assert (loan.status, loan.outstanding_balance, loan.version) == (LoanStatus.OPEN, 26_013, 0)
    assert loan.disbursement_date == dt.date(2024, 1, 5)
    assert (loan.disbursement_method, loan.completion_date) == (Rail.ACH, None)
    assert (loan.account_last_four, loan.autopay_enabled) == ("6789", True)
    assert loan.created_at == dt.datetime(2024, 1, 5, 15, 4, 5, tzinfo=dt.UTC)
    assert loan.product == InstallmentProduct()  # the Go service stored no terms: the defaults
    assert [i.number for i in loan.installments] == [1, 2, 3, 4, 5, 6]
    assert [i.due_date.isoformat() for i in loan.installments] == DUE
    second = loan.installments[1]
    assert (second.status, second.late_fee, second.overdue_on) == (
        InstallmentStatus.OVERDUE,
        263,
        dt.date(2024, 2, 7),  # due date + the default five days of grace
    )
    assert (second.principal, second.origination_fee) == (5_000, 250)
    assert second.applications == [
        PaymentApplication(
            payment_id="pay-2",
            installment_id="inst-2",
            amount=500,
            payment_date=dt.date(2024, 2, 10),
            late_fee=263,
            origination_fee=237,
        )
    ]
    assert loan.bucket_balances()  # the split is whole: every bucket adds up


@pytest.mark.usefixtures("stored_book")
def test_a_go_loan_is_saved_with_its_seed_fields_and_unknown_attributes_kept(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    with new_uow() as uow:
        pay(uow, "pay-3", 1_000, on=dt.date(2024, 2, 12), user_id=USER, loan_id=LOAN)
        uow.commit(actor="api", request_id="r-1")
    raw = get_raw(dynamodb, table, f"LOAN#{LOAN}")
    assert raw["loc_go_only_attribute"] == s("kept")
    assert raw["loc_outstanding_balance"] == n(25_013)
    assert raw["loc_version"] == n(1)
    with new_uow() as uow:
        again = uow.loans.get(USER, LOAN)
        assert again.outstanding_balance == 25_013
        assert [e.entry_id for e in uow.journal.entries_for(LOAN)] == ["pay-3:apply"]


def test_a_defaulted_go_loan_gets_the_day_it_defaulted(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    book = seed_book()
    book[0].update(
        loc_status=s("DEFAULTED"),
        auto_pay_enabled={"BOOL": False},
        GSI1PK=s(f"USER#{USER}#STATUS#DEFAULTED"),
    )
    for item in book[2:]:
        item["loc_status"] = s("DEFAULTED")
    put_raw(dynamodb, table, book)
    put_raw(
        dynamodb,
        table,
        [
            our_payment("pay-1", 5_250, "2024-01-19", (0, 250, 5_000), 1),
            our_payment("pay-2", 500, "2024-02-10", (263, 237, 0), 2),
        ],
    )
    with new_uow() as uow:
        loan = uow.loans.get(USER, LOAN)
    # the first unpaid installment became overdue on 2024-02-07; 60 days later it defaulted
    assert loan.defaulted_on == dt.date(2024, 4, 7)


def test_a_go_application_reads_with_its_ttl_and_keeps_the_agreement_key(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable, clock: Any
) -> None:
    expires = dt.datetime(2026, 1, 6, 15, 0, 0, tzinfo=dt.UTC)
    schedule = [
        {"M": {"amount": n(5_250), "due_date": s(day)}}
        for day in (
            "2026-01-19",
            "2026-02-02",
            "2026-02-17",
            "2026-03-02",
            "2026-03-16",
            "2026-03-30",
        )
    ]
    put_raw(
        dynamodb,
        table,
        [
            {
                "PK": s(f"USER#{USER}"),
                "SK": s(f"LOANAPP#{APP}"),
                "loc_user_id": s(USER),
                "loc_loan_application_id": s(APP),
                "loc_loan_id": s(""),
                "loc_loan_number": s("FM-000042"),
                "loc_loan_agreement_key": s("agreements/u-1/7c1d-app.pdf"),
                "loc_status": s("APPROVED"),
                "loc_adverse_actions": {"L": []},
                "ttl": n(int(expires.timestamp())),
                "loc_loan_amount": n(30_000),
                "loc_fee_type": s("fixed"),
                "loc_origination_fee": n(1_500),
                "loc_fee_percent": n("0"),
                "loc_total_amount": n(31_500),
                "loc_amount_disbursed": n(30_000),
                "loc_repayment_cadence": s("biweekly"),
                "loc_installment_schedule": {"L": schedule},
                "loc_created_date": s("2026-01-05T15:00:00Z"),
                "loc_last_updated": s("2026-01-05T15:00:00Z"),
            }
        ],
    )
    with new_uow() as uow:
        found = uow.loan_applications.get(USER, APP)
        assert (found.status, found.loan_id, found.expires_at) == (
            ApplicationStatus.APPROVED,
            None,
            expires,
        )
        assert [line.amount for line in found.proposed_schedule] == [5_250] * 6
        found.convert(loan_id=LOAN, now=clock.now())
        uow.loan_applications.save(found)
        uow.commit(actor="api", request_id="accept")
    raw = get_raw(dynamodb, table, f"LOANAPP#{APP}")
    assert raw["loc_loan_agreement_key"] == s("agreements/u-1/7c1d-app.pdf")
    assert raw["loc_loan_id"] == s(LOAN)
    assert "ttl" not in raw  # a converted offer no longer expires


# --- what this library writes --------------------------------------------------------

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
LOAN_FIELDS = {  # the seed's loan fields: DynamoDB type, and the format of strings
    "loc_user_id": ("S", None),
    "loc_loan_id": ("S", None),
    "loc_loan_application_id": ("S", None),
    "loc_loan_number": ("S", re.compile(r"FM-\d{6}")),
    "loc_loan_amount": ("N", None),
    "loc_origination_fee": ("N", None),
    "loc_fee_percent": ("N", None),
    "loc_fee_type": ("S", re.compile("fixed|percentage")),
    "loc_total_amount": ("N", None),
    "loc_amount_disbursed": ("N", None),
    "loc_outstanding_balance": ("N", None),
    "loc_status": ("S", re.compile("OPEN|CLOSED|DEFAULTED")),
    "loc_repayment_cadence": ("S", re.compile("biweekly")),
    "loc_disbursement_date": ("S", RFC3339),
    "loc_disbursement_method": ("S", re.compile("ach|pinless")),
    "loc_completion_date": ("S", RFC3339),
    "loc_account_last_four": ("S", re.compile(r"\d{4}")),
    "loc_confirmation_id": ("S", None),
    "auto_pay_enabled": ("BOOL", None),
    "loc_created_date": ("S", RFC3339),
    "loc_last_updated": ("S", RFC3339),
}
INSTALLMENT_FIELDS = {
    "loc_user_id": ("S", None),
    "loc_loan_id": ("S", None),
    "loc_installment_id": ("S", None),
    "loc_total_amount": ("N", None),
    "loc_outstanding_balance": ("N", None),
    "loc_status": ("S", re.compile("SCHEDULED|COMPLETED|OVERDUE|DEFAULTED")),
    "loc_due_date": ("S", DATE),
    "loc_process": ("S", re.compile("CREATION|AUTOPAY|MANUAL|UNAPPLY")),
    "loc_applications": ("L", None),
    "loc_update_reason": ("S", None),
    "loc_created_date": ("S", RFC3339),
    "loc_last_updated": ("S", RFC3339),
}


def check_fields(
    item: dict[str, Any], fields: dict[str, tuple[str, re.Pattern[str] | None]]
) -> None:
    for name, (kind, pattern) in fields.items():
        assert name in item, name
        assert list(item[name]) == [kind], (name, item[name])
        if pattern is not None:
            assert pattern.fullmatch(item[name][kind]), (name, item[name])


def test_items_this_library_writes_match_the_seed_formats(
    new_uow: UowFactory, dynamodb: DynamoDBClient, table: DynamoTable
) -> None:
    loan = make_loan(loan_id="l-9", user_id="u-9", fee=OriginationFee.percentage(Decimal(5)))
    loan.account_last_four = "4321"
    with new_uow() as uow:
        uow.loans.add(loan)
        uow.commit(actor="test", request_id="setup")
    with new_uow() as uow:
        pay(uow, "pay-1", 31_500, on=dt.date(2026, 1, 9), user_id="u-9", loan_id="l-9")
        uow.commit(actor="test", request_id="payoff")
    items = {
        item["SK"]["S"]: item
        for item in dynamodb.query(
            TableName=table.name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": s("USER#u-9")},
        )["Items"]
    }
    root = items["LOAN#l-9"]
    check_fields(root, LOAN_FIELDS)
    assert root["GSI1PK"] == s("USER#u-9#STATUS#CLOSED")
    assert root["GSI1SK"] == root["GSI2SK"] == s("LOAN#DATE#2026-01-05T15:00:00Z#LOAN#l-9")
    assert (root["GSI2PK"], root["GSI3PK"]) == (s("USER#u-9"), s("USER#u-9"))
    assert root["GSI3SK"] == s("LOAN#LOANAPP#app-l-9")
    first = items["LOAN#l-9#INSTALLMENT#l-9:1"]
    check_fields(first, INSTALLMENT_FIELDS)
    assert first["GSI1PK"] == s("INSTALLMENT#STATUS#COMPLETED")
    assert first["GSI1SK"] == s("DUEDATE#2026-01-20#INSTALLMENT#l-9:1")
    assert first["GSI2SK"] == s("LOAN#l-9#DUEDATE#2026-01-20#INSTALLMENT#l-9:1")
    (entry,) = first["loc_applications"]["L"]
    assert {key: list(value) for key, value in entry["M"].items()} == {
        "payment_id": ["S"],
        "installment_id": ["S"],
        "amount": ["N"],
        "payment_date": ["S"],
        "late_fee": ["N"],
        "origination_fee": ["N"],
        "principal": ["N"],
    }
    assert RFC3339.fullmatch(entry["M"]["payment_date"]["S"])
