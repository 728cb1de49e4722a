import datetime as dt

import pytest

from loc_core.creditline import (
    CreditLine,
    CreditLineProduct,
    Process,
)
from loc_core.events import FieldChange
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw

PRODUCT = CreditLineProduct()


@pytest.fixture
def history(line: CreditLine) -> CreditLine:
    """A line through a draw, a statement, a missed due date, a payment and its return."""
    disbursed_draw(line, draw_id="d1", amount=50_000, on=dt.date(2026, 1, 12))
    line.bill_cycle(close_date=dt.date(2026, 2, 10), today=dt.date(2026, 2, 10), product=PRODUCT)
    line.run_overdue(today=dt.date(2026, 3, 4), product=PRODUCT)
    line.submit_payment(payment_id="p1", amount=3_191, rail=Rail.ACH, on=dt.date(2026, 3, 5))
    line.settle_payment(payment_id="p1", outcome=SettlementOutcome.RETURNED, on=dt.date(2026, 3, 9))
    return line


def test_every_change_names_its_entity_process_and_values(history: CreditLine) -> None:
    trail = [(c.entity, c.entity_id, c.process) for c in history.outbox.changes]
    assert trail == [
        ("draw", "d1", "DRAW"),
        ("line", "line-1", "DRAW"),
        ("draw", "d1", "DISBURSEMENT"),
        ("line", "line-1", "DISBURSEMENT"),
        ("line", "line-1", "BILLING"),
        ("line", "line-1", "OVERDUE"),
        ("line", "line-1", "LATE_FEE"),
        ("payment", "p1", "PAYMENT"),
        ("line", "line-1", "PAYMENT"),
        ("line", "line-1", "CURE"),
        ("payment", "p1", "UNAPPLY"),
        ("line", "line-1", "UNAPPLY"),
        ("line", "line-1", "OVERDUE"),
    ]
    assert {c.process for c in history.outbox.changes} <= {p.value for p in Process}
    for change in history.outbox.changes:
        assert change.user_id == "user-1"
        assert change.reason
        assert change.fields
        for field in change.fields:
            for value in (field.old, field.new):
                assert value is None or type(value) in {str, int, bool}


def test_changes_carry_old_and_new_values_as_strings_and_ints(history: CreditLine) -> None:
    billing = next(c for c in history.outbox.changes if c.process == "BILLING")
    assert FieldChange("interest_balance", 0, 1_191) in billing.fields
    assert FieldChange("next_due_date", None, "2026-03-03") in billing.fields
    assert FieldChange("last_billing_cycle_date", None, "2026-02-10") in billing.fields
    returned = next(
        c for c in history.outbox.changes if c.entity == "payment" and c.process == "UNAPPLY"
    )
    assert FieldChange("status", "PENDING", "RETURNED") in returned.fields


def test_journal_entry_ids_are_deterministic(history: CreditLine) -> None:
    assert [entry.entry_id for entry in history.outbox.entries] == [
        "d1:disburse",
        "line-1:2026-02-10:interest",
        "line-1:2026-02-10:late_fee",
        "p1:apply",
        "p1:reverse",
    ]


def test_commands_leave_the_version_to_the_unit_of_work(history: CreditLine) -> None:
    # Six commands ran (request, disburse, bill, overdue, pay, return); a save is
    # conditional on the version read, so only a commit may bump it.
    assert history.version == 0


def test_a_step_records_its_changes_after_the_body_and_nothing_when_it_raises(
    line: CreditLine,
) -> None:
    from loc_core.creditline._bookkeeping import step  # noqa: PLC0415 - the helper under test

    def refused() -> None:
        with step(line, dt.date(2026, 1, 12), process=Process.DRAW, reason="r"):
            line.accrued_cent_days += 1
            raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        refused()
    assert line.outbox.changes == []
    with step(line, dt.date(2026, 1, 13), process=Process.DRAW, reason="r") as others:
        assert line.accrued_through == dt.date(2026, 1, 13)  # accrued on entering
        line.accrued_cent_days += 1
        assert others.changes() == []
    (change,) = line.outbox.changes
    assert (change.entity, change.process, change.reason) == ("line", "DRAW", "r")
