"""`loc adopt` on a table the Go service wrote, on the moto server.

The Go items are built here in the seeds' wire format (a shared builder module is being
written alongside; these stay local until the two are unified).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from contracts.uow import UowFactory

from loc_adapters.dynamodb import DynamoTable
from loc_adapters.dynamodb.adopt import Outcome, adopt_table
from loc_core.errors import InvariantViolation
from loc_core.installment import WATERFALL, LoanStatus, Process
from loc_core.ledger import CLEARING, Ledger, receivable
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_entrypoints.cli import main

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TODAY = dt.date(2026, 1, 5)
NOW = dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)
DUE = ["2024-01-19", "2024-02-02", "2024-02-16", "2024-03-01"]
STAMP = "2024-01-05T15:04:05Z"
OFFER_DUE = ["2026-01-19", "2026-02-02", "2026-02-17", "2026-03-02"]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int | str) -> dict[str, str]:
    return {"N": str(value)}


def go_application_entry(payment: str, inst: str, amount: int, date: str) -> dict[str, Any]:
    fields = {"payment_id": s(payment), "installment_id": s(inst), "amount": n(amount)}
    return {"M": {**fields, "payment_date": s(date)}}


def go_loan(user: str, loan: str, status: str, outstanding: int) -> dict[str, Any]:
    """A loan as the Go service stores it: 4 installments of 5,250 (250 of fee each)."""
    dated = f"LOAN#DATE#{STAMP}#LOAN#{loan}"
    return {
        "PK": s(f"USER#{user}"),
        "SK": s(f"LOAN#{loan}"),
        "GSI1PK": s(f"USER#{user}#STATUS#{status}"),
        "GSI1SK": s(dated),
        "GSI2PK": s(f"USER#{user}"),
        "GSI2SK": s(dated),
        "GSI3PK": s(f"USER#{user}"),
        "GSI3SK": s(f"LOAN#LOANAPP#app-{loan}"),
        "loc_user_id": s(user),
        "loc_loan_id": s(loan),
        "loc_loan_application_id": s(f"app-{loan}"),
        "loc_loan_number": s("FM-000042"),
        "loc_loan_amount": n(20_000),
        "loc_origination_fee": n(1_000),
        "loc_fee_percent": n("5.0"),
        "loc_fee_type": s("percentage"),
        "loc_total_amount": n(21_000),
        "loc_amount_disbursed": n(20_000),
        "loc_outstanding_balance": n(outstanding),
        "loc_status": s(status),
        "loc_repayment_cadence": s("biweekly"),
        "loc_disbursement_date": s(STAMP),
        "loc_disbursement_method": s("ach"),
        "loc_completion_date": s("2024-03-01T10:00:00Z" if status == "CLOSED" else ""),
        "loc_account_last_four": s("6789"),
        "loc_confirmation_id": s("conf-1"),
        "auto_pay_enabled": {"BOOL": status == "OPEN"},
        "loc_created_date": s(STAMP),
        "loc_last_updated": s("2024-02-10T09:00:00Z"),
    }


def go_installment(
    user: str,
    loan: str,
    number: int,
    *,
    status: str = "SCHEDULED",
    total: int = 5_250,
    outstanding: int | None = None,
    process: str = "CREATION",
    applications: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    due, inst = DUE[number - 1], f"{loan}-i{number}"
    return {
        "PK": s(f"USER#{user}"),
        "SK": s(f"LOAN#{loan}#INSTALLMENT#{inst}"),
        "GSI1PK": s(f"INSTALLMENT#STATUS#{status}"),
        "GSI1SK": s(f"DUEDATE#{due}#INSTALLMENT#{inst}"),
        "GSI2PK": s(f"USER#{user}"),
        "GSI2SK": s(f"LOAN#{loan}#DUEDATE#{due}#INSTALLMENT#{inst}"),
        "loc_user_id": s(user),
        "loc_loan_id": s(loan),
        "loc_installment_id": s(inst),
        "loc_total_amount": n(total),
        "loc_outstanding_balance": n(total if outstanding is None else outstanding),
        "loc_status": s(status),
        "loc_due_date": s(due),
        "loc_process": s(process),
        "loc_applications": {"L": applications or []},
        "loc_update_reason": s(""),
        "loc_created_date": s(STAMP),
        "loc_last_updated": s(STAMP),
    }


def open_book(user: str, loan: str) -> list[dict[str, Any]]:
    """OPEN: pay-a paid inst 1 and part of inst 2; inst 2 overdue with a late fee, pay-b too."""
    i1, i2 = f"{loan}-i1", f"{loan}-i2"
    return [
        go_loan(user, loan, "OPEN", 5_250 * 2 + 5_513 - 1_000 - 500),
        go_installment(
            user,
            loan,
            1,
            status="COMPLETED",
            outstanding=0,
            process="AUTOPAY",
            applications=[go_application_entry("pay-a", i1, 5_250, "2024-01-19T12:00:00Z")],
        ),
        go_installment(
            user,
            loan,
            2,
            status="OVERDUE",
            total=5_513,
            outstanding=5_513 - 1_500,
            process="MANUAL",
            applications=[
                go_application_entry("pay-a", i2, 1_000, "2024-01-19T12:00:00Z"),
                go_application_entry("pay-b", i2, 500, "2024-02-10T09:00:00Z"),
            ],
        ),
        go_installment(user, loan, 3),
        go_installment(user, loan, 4),
    ]


def closed_book(user: str, loan: str) -> list[dict[str, Any]]:
    items = [go_loan(user, loan, "CLOSED", 0)]
    for k in range(1, 5):
        paid = [go_application_entry(f"pay-{k}", f"{loan}-i{k}", 5_250, f"{DUE[k - 1]}T12:00:00Z")]
        items.append(
            go_installment(user, loan, k, status="COMPLETED", outstanding=0, applications=paid)
        )
    return items


def defaulted_book(user: str, loan: str) -> list[dict[str, Any]]:
    items = open_book(user, loan)
    items[0].update(
        loc_status=s("DEFAULTED"),
        GSI1PK=s(f"USER#{user}#STATUS#DEFAULTED"),
        auto_pay_enabled={"BOOL": False},
    )
    for item in items[2:]:
        item["loc_status"] = s("DEFAULTED")
    return items


def go_offer(user: str, app: str, status: str, *, ttl: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": s(f"USER#{user}"),
        "SK": s(f"LOANAPP#{app}"),
        "loc_user_id": s(user),
        "loc_loan_application_id": s(app),
        "loc_loan_id": s(""),
        "loc_loan_number": s("FM-000043" if status == "APPROVED" else ""),
        "loc_status": s(status),
        "loc_adverse_actions": {"L": [s("INSUFFICIENT_INCOME")] if status == "REJECTED" else []},
        "loc_loan_amount": n(20_000),
        "loc_fee_type": s("fixed"),
        "loc_origination_fee": n(1_000),
        "loc_fee_percent": n("0"),
        "loc_total_amount": n(21_000),
        "loc_amount_disbursed": n(20_000),
        "loc_repayment_cadence": s("biweekly"),
        "loc_installment_schedule": {
            "L": [{"M": {"amount": n(5_250), "due_date": s(day)}} for day in OFFER_DUE]
        },
        "loc_created_date": s("2025-12-30T15:00:00Z"),
        "loc_last_updated": s("2025-12-30T15:00:00Z"),
    }
    if ttl:
        item["ttl"] = n(int(dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp()))
    return item


def put_raw(dynamodb: DynamoDBClient, table: DynamoTable, items: list[dict[str, Any]]) -> None:
    for item in items:
        dynamodb.put_item(TableName=table.name, Item=item)


def snapshot(dynamodb: DynamoDBClient, table: DynamoTable) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=table.name, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


@pytest.fixture
def go_table(dynamodb: DynamoDBClient, table: DynamoTable) -> DynamoTable:
    """Loans in each status, one that does not verify, and offers with and without TTL."""
    broken = open_book("u-4", "l-bad")
    broken[2]["loc_outstanding_balance"] = n(4_000)  # the Go item disagrees with itself
    put_raw(
        dynamodb,
        table,
        [
            *open_book("u-1", "l-open"),
            *closed_book("u-2", "l-closed"),
            *defaulted_book("u-3", "l-default"),
            *broken,
            go_offer("u-1", "app-ok", "APPROVED", ttl=True),
            go_offer("u-2", "app-no", "REJECTED", ttl=False),
            go_offer("u-3", "app-gone", "ABANDONED", ttl=False),
            go_offer("u-4", "app-old", "APPROVED", ttl=True),
        ],
    )
    return DynamoTable(table.client, table.name, page_size=3)


def run(go_table: DynamoTable, *args: str) -> Any:
    result = CliRunner().invoke(main, ["adopt", *args], obj={"table": go_table})
    assert result.exit_code == 0, result.output
    return result


def ledger(uow_factory: UowFactory, loan_id: str) -> Ledger:
    with uow_factory() as uow:
        return Ledger(uow.journal.entries_for(loan_id))


@pytest.mark.usefixtures("go_table")
def test_a_go_loan_with_payments_is_refused_until_adopted(uow_factory: UowFactory) -> None:
    with uow_factory() as uow, pytest.raises(InvariantViolation, match="applications differ"):
        uow.loans.get("u-1", "l-open")


def test_a_dry_run_writes_nothing_and_reports_what_it_would(
    go_table: DynamoTable, dynamodb: DynamoDBClient, tmp_path: Path
) -> None:
    before = snapshot(dynamodb, go_table)
    result = run(go_table, "--report", str(tmp_path / "r.json"), "--segments", "3")
    assert snapshot(dynamodb, go_table) == before
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["applied"] is False
    assert report["counts"]["would adopt"] == 3
    assert report["counts"]["does not verify"] == 1, report["findings"]
    assert report["scanned"] == len(before)
    assert "would write 8 payments and 3 journal entries" in result.output.replace("\n", " ")


def test_apply_adopts_and_the_library_then_serves_each_loan_to_the_cent(
    go_table: DynamoTable, dynamodb: DynamoDBClient, uow_factory: UowFactory, tmp_path: Path
) -> None:
    bad_before = [i for i in snapshot(dynamodb, go_table) if "l-bad" in i["SK"]["S"]]
    run(go_table, "--apply", "--report", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["counts"]["adopted"] == 3
    (bad,) = [f for f in report["findings"] if f["outcome"] == "does not verify"]
    assert bad["item_id"] == "l-bad"
    assert "outstanding 4000 != total 5513 - applications 1500" in bad["detail"]
    assert [i for i in snapshot(dynamodb, go_table) if "l-bad" in i["SK"]["S"]] == bad_before

    for user, loan_id in (("u-1", "l-open"), ("u-2", "l-closed"), ("u-3", "l-default")):
        with uow_factory() as uow:
            loan = uow.loans.get(user, loan_id)
        books = ledger(uow_factory, loan_id)
        assert books.trial_balance() == 0
        owed = loan.bucket_balances()
        assert {b: books.balance(receivable(loan_id, b)) for b in WATERFALL} == owed
    with uow_factory() as uow:
        loan = uow.loans.get("u-1", "l-open")
        pay_a = loan.payments["pay-a"]
        assert (pay_a.amount, pay_a.process, pay_a.rail) == (6_250, Process.AUTOPAY, Rail.ACH)
        assert pay_a.status is PaymentStatus.COMPLETED
        assert loan.outstanding_balance == 14_513

        # a return of a payment the Go service took, a manual payment, an autopay one
        loan.settle("pay-b", SettlementOutcome.RETURNED, today=TODAY)
        loan.apply_payment("pay-m", 2_000, process=Process.MANUAL, rail=Rail.ACH, today=TODAY)
        loan.apply_payment("pay-c", 5_250, process=Process.AUTOPAY, rail=Rail.ACH, today=TODAY)
        uow.loans.save(loan)
        uow.commit(actor="test", request_id="after-adoption")
    with uow_factory() as uow:
        loan = uow.loans.get("u-1", "l-open")
    assert loan.outstanding_balance == 14_513 + 500 - 2_000 - 5_250
    books = ledger(uow_factory, "l-open")
    assert {b: books.balance(receivable("l-open", b)) for b in WATERFALL} == loan.bucket_balances()
    assert books.balance(CLEARING) == 6_250 + 500 - 500 + 2_000 + 5_250
    assert books.entries()[0].kind == "adopted"

    before = snapshot(dynamodb, go_table)
    again = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=2)
    assert snapshot(dynamodb, go_table) == before  # a second run writes nothing
    assert again.counts()["adopted"] == 0
    assert again.counts()["already served"] == 7  # 3 loans and 4 offers
    with uow_factory() as uow:
        assert uow.loans.get("u-3", "l-default").status is LoanStatus.DEFAULTED
        offer = uow.loan_applications.get("u-1", "app-ok")
        assert offer.expires_at == dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


def test_an_interrupted_run_resumes_from_its_checkpoint_to_the_same_result(
    go_table: DynamoTable, dynamodb: DynamoDBClient, table: DynamoTable, tmp_path: Path
) -> None:
    point = tmp_path / "adopt.json"
    first = adopt_table(
        go_table, today=TODAY, now=NOW, apply=True, segments=2, checkpoint=point, stop_after_pages=1
    )
    saved = json.loads(point.read_text())
    assert saved["scanned"] == first.scanned
    assert any(not p["done"] for p in saved["positions"].values())
    finished = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=2, checkpoint=point)
    assert finished.counts()["adopted"] == 3
    assert finished.counts()["does not verify"] == 1
    assert finished.scanned >= 24  # every Go item, and some of the items written meanwhile

    # the same table adopted in one go holds the same items, bar the posting time
    fresh = f"{table.name}-once"
    from loc_adapters.dynamodb import create_table  # noqa: PLC0415 - a second table

    other = create_table(dynamodb, fresh)
    try:
        put_raw(dynamodb, other, _go_items(dynamodb, go_table))
        adopt_table(other, today=TODAY, now=NOW, apply=True, segments=1)
        assert _comparable(snapshot(dynamodb, other)) == _comparable(snapshot(dynamodb, go_table))
    finally:
        dynamodb.delete_table(TableName=fresh)


def _go_items(dynamodb: DynamoDBClient, table: DynamoTable) -> list[dict[str, Any]]:
    """The items the Go service wrote (no version, no journal, no payment of ours)."""
    return [
        item
        for item in snapshot(dynamodb, table)
        if item["PK"]["S"].startswith("USER#") and "#PAYMENT#" not in item["SK"]["S"]
    ]


def _comparable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "loc_posted_at"} for item in items]


def test_an_item_changed_between_read_and_write_is_not_overwritten(
    go_table: DynamoTable, dynamodb: DynamoDBClient
) -> None:
    key = {"PK": s("USER#u-1"), "SK": s("LOAN#l-open#INSTALLMENT#l-open-i3")}

    class ChangedMeanwhile(DynamoTable):
        """Another writer changes an installment right after the loan is read."""

        def query(self, *args: Any, **kwargs: Any) -> Any:
            found = list(super().query(*args, **kwargs))
            if any(item["SK"] == "LOAN#l-open" for item in found):
                dynamodb.update_item(
                    TableName=self.name,
                    Key=key,
                    UpdateExpression="SET loc_last_updated = :t",
                    ExpressionAttributeValues={
                        ":t": s(f"2026-01-05T16:00:0{uuid.uuid4().int % 9}Z")
                    },
                )
            return iter(found)

    racing = ChangedMeanwhile(go_table.client, go_table.name, page_size=3)
    report = adopt_table(racing, today=TODAY, now=NOW, apply=True, segments=1)
    (changed,) = [f for f in report.findings if f.outcome is Outcome.CHANGED]
    assert (changed.item_id, changed.outcome.value) == ("l-open", "changed during adoption, retry")
    assert report.counts()["adopted"] == 2
    items = snapshot(dynamodb, go_table)
    assert not [i for i in items if i["SK"]["S"].startswith("LOAN#l-open#PAYMENT#")]
    assert not [i for i in items if i["PK"]["S"] == "JOURNAL#l-open"]
    again = adopt_table(go_table, today=TODAY, now=NOW, apply=True, segments=1)
    assert again.counts()["adopted"] == 1  # a retry adopts it
