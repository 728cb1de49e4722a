"""Which stream records ask for a reconciliation or carry an audit record (hand-built images)."""

from typing import Any

import pytest
from lambda_events import stream_record

from loc_adapters.dynamodb import balance_reconciliation, inserted_audit_record
from loc_core.errors import InvariantViolation
from loc_core.services.commands import ReconcileLine, ReconcileLoan

LINE = {
    "PK": {"S": "USER#u-1"},
    "SK": {"S": "LOC#line-1"},
    "loc_user_id": {"S": "u-1"},
    "loc_line_id": {"S": "line-1"},
    "loc_principal_balance": {"N": "10000"},
    "loc_cycle_day": {"N": "5"},
}
LOAN = {
    "PK": {"S": "USER#u-1"},
    "SK": {"S": "LOAN#loan-1"},
    "loc_user_id": {"S": "u-1"},
    "loc_loan_id": {"S": "loan-1"},
    "loc_outstanding_balance": {"N": "31500"},
}


def modified(old: dict[str, Any], **changes: Any) -> dict[str, Any]:
    keys = {"PK": old["PK"], "SK": old["SK"]}
    return stream_record("MODIFY", keys=keys, old=old, new={**old, **changes})


def test_a_changed_balance_of_a_loan_or_line_asks_for_its_reconciliation() -> None:
    assert balance_reconciliation(
        modified(LINE, loc_principal_balance={"N": "9000"})
    ) == ReconcileLine("u-1", "line-1")
    assert balance_reconciliation(
        modified(LOAN, loc_outstanding_balance={"N": "26500"})
    ) == ReconcileLoan("u-1", "loan-1")


@pytest.mark.parametrize(
    "record",
    [
        modified(LINE, loc_cycle_day={"N": "6"}),  # no balance changed
        modified(
            {**LOAN, "SK": {"S": "LOAN#loan-1#INSTALLMENT#i-1"}},
            loc_outstanding_balance={"N": "0"},
        ),  # an installment: its loan's record asks
        stream_record("INSERT", keys={"PK": LOAN["PK"], "SK": LOAN["SK"]}, new=LOAN),
    ],
    ids=["other attribute", "installment", "insert"],
)
def test_other_records_ask_for_nothing(record: dict[str, Any]) -> None:
    assert balance_reconciliation(record) is None
    assert inserted_audit_record(record) is None


def test_a_changed_loan_item_without_its_ids_is_unreadable() -> None:
    broken = {key: value for key, value in LOAN.items() if key != "loc_loan_id"}
    with pytest.raises(InvariantViolation):
        balance_reconciliation(modified(broken, loc_outstanding_balance={"N": "1"}))
