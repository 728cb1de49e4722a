import copy
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from fakes import bare_line, line_offer, refused
from hypothesis import given
from hypothesis import strategies as st

from loc_core.creditline import (
    DISBURSEMENT_RAILS,
    REPAYMENT_RAILS,
    CreditLine,
    CreditLineProduct,
    DrawStatus,
    LineStatus,
    next_rail,
)
from loc_core.errors import (
    IdempotencyConflict,
    InsufficientCredit,
    InvalidAmount,
    InvalidTransition,
    LineNotActive,
    NotFound,
    OutOfOrder,
)
from loc_core.events import DomainEvent, EventType, FieldChange
from loc_core.ledger import FUNDING, Bucket, Ledger, receivable
from loc_core.payments import Rail, SettlementOutcome
from loc_core.testing.creditline import disbursed_draw

DAY = dt.date(2026, 1, 12)
PRODUCT = CreditLineProduct()


def test_a_pending_draw_holds_credit_without_moving_money(line: CreditLine) -> None:
    draw = line.request_draw(draw_id="d1", amount=30_000, on=DAY)
    assert draw.status is DrawStatus.PENDING
    assert (line.pending_draws_total, line.available_credit, line.principal_balance) == (
        30_000,
        70_000,
        0,
    )
    assert line.outbox.entries == []
    assert line.outbox.events == []


def test_a_rail_accepting_raises_principal_posts_and_notifies(line: CreditLine) -> None:
    line.request_draw(draw_id="d1", amount=30_000, on=DAY)
    draw = line.disburse_draw(draw_id="d1", rail=Rail.PINLESS, on=DAY)
    assert (draw.status, draw.rail, draw.settled_on) == (DrawStatus.DISBURSED, Rail.PINLESS, DAY)
    assert (line.principal_balance, line.pending_draws_total, line.available_credit) == (
        30_000,
        0,
        70_000,
    )
    (entry,) = line.outbox.entries
    assert entry.entry_id == "d1:disburse"
    ledger = Ledger(entries=line.outbox.entries)
    assert ledger.balance(receivable("line-1", Bucket.PRINCIPAL)) == 30_000
    assert ledger.balance(FUNDING) == -30_000
    assert line.outbox.events == [
        DomainEvent(
            EventType.LOC_DRAW_DISBURSED,
            "user-1",
            "d1",
            DAY,
            {"line_id": "line-1", "amount": 30_000, "rail": "pinless"},
        )
    ]
    assert line.cycle_activity[0].amount == 30_000


def test_a_failed_draw_releases_the_hold_and_changes_no_balance(line: CreditLine) -> None:
    line.request_draw(draw_id="d1", amount=30_000, on=DAY)
    for rail in DISBURSEMENT_RAILS:
        line.record_rail_decline(draw_id="d1", rail=rail, on=DAY)
    assert (
        next_rail(DISBURSEMENT_RAILS, enabled=set(Rail), declined=line.draws["d1"].declined_rails)
        is None
    )
    draw = line.fail_draw(draw_id="d1", on=DAY, reason="every rail declined")
    assert (draw.status, draw.failure_reason) == (DrawStatus.FAILED, "every rail declined")
    assert (line.pending_draws_total, line.available_credit, line.principal_balance) == (
        0,
        100_000,
        0,
    )
    assert line.outbox.entries == []
    assert [(e.type, e.subject_id) for e in line.outbox.events] == [
        (EventType.LOC_DRAW_FAILED, "d1")
    ]
    line.fail_draw(draw_id="d1", on=DAY, reason="every rail declined")  # a repeat: untold
    assert len(line.outbox.events) == 1


@pytest.mark.parametrize(
    ("enabled", "declined", "expected"),
    [
        (set(Rail), (), Rail.RTP),
        ({Rail.PINLESS, Rail.ACH}, (), Rail.PINLESS),  # the flag switched RTP off
        (set(Rail), (Rail.RTP,), Rail.PINLESS),
        (set(Rail), (Rail.RTP, Rail.PINLESS), Rail.ACH),
        (set(Rail), (Rail.PINLESS,), Rail.RTP),
        (set(Rail), tuple(Rail), None),
        ({Rail.RTP}, (Rail.RTP,), None),
        (set(), (), None),
    ],
)
def test_disbursement_tries_rtp_then_pinless_then_ach(
    enabled: set[Rail], declined: tuple[Rail, ...], expected: Rail | None
) -> None:
    assert next_rail(DISBURSEMENT_RAILS, enabled=enabled, declined=declined) is expected


def test_repayment_tries_pinless_then_ach_never_rtp() -> None:
    assert next_rail(REPAYMENT_RAILS, enabled=set(Rail), declined=()) is Rail.PINLESS
    assert next_rail(REPAYMENT_RAILS, enabled=set(Rail), declined={Rail.PINLESS}) is Rail.ACH
    assert next_rail(REPAYMENT_RAILS, enabled={Rail.RTP}, declined=()) is None


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "draw amount must be more than 0 cents"),
        (-5, "draw amount must be more than 0 cents"),
        (10.0, "floats are not money"),
        ("10", "integer cents"),
    ],
)
def test_a_bad_amount_is_refused_and_changes_nothing(
    line: CreditLine, amount: object, message: str
) -> None:
    with refused(line, InvalidAmount, match=message):
        line.request_draw(draw_id="d1", amount=amount, on=DAY)


def test_a_draw_above_the_available_credit_is_refused(line: CreditLine) -> None:
    line.request_draw(draw_id="d1", amount=60_000, on=DAY)
    with refused(
        line, InsufficientCredit, match=r"\$400.01 is above the available credit of \$400.00"
    ):
        line.request_draw(draw_id="d2", amount=40_001, on=DAY)
    line.request_draw(draw_id="d3", amount=40_000, on=DAY)
    assert line.available_credit == 0


@pytest.mark.parametrize("status", [LineStatus.SUSPENDED, LineStatus.DEFAULTED, LineStatus.CLOSED])
def test_only_an_active_line_can_be_drawn_on(line: CreditLine, status: LineStatus) -> None:
    line.status = status
    with refused(line, LineNotActive, match=f"line-1 is {status.value}"):
        line.request_draw(draw_id="d1", amount=100, on=DAY)


def test_a_past_due_line_cannot_draw_before_the_overdue_job_runs(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=50_000, on=DAY)
    line.bill_cycle(close_date=dt.date(2026, 2, 10), today=dt.date(2026, 2, 10), product=PRODUCT)
    line.request_draw(draw_id="d2", amount=100, on=dt.date(2026, 3, 3))  # the due date: fine
    morning_after = dt.date(2026, 3, 4)
    assert line.status is LineStatus.ACTIVE
    with refused(line, LineNotActive, match=r"\$26.91 past due: draws are blocked"):
        line.request_draw(draw_id="d3", amount=100, on=morning_after)


def test_a_draw_dated_before_the_latest_activity_is_refused(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=100, on=DAY)
    with refused(line, OutOfOrder, match="would rewrite its past"):
        line.request_draw(draw_id="d2", amount=100, on=DAY - dt.timedelta(days=1))


def test_a_draw_past_an_unbilled_close_is_refused(line: CreditLine) -> None:
    with refused(line, OutOfOrder, match="closed on 2026-02-10 and is not billed"):
        line.request_draw(draw_id="d1", amount=100, on=dt.date(2026, 2, 10))


def test_repeating_a_request_returns_the_same_draw(line: CreditLine) -> None:
    first = line.request_draw(draw_id="d1", amount=500, on=DAY)
    before = copy.deepcopy(line)
    assert line.request_draw(draw_id="d1", amount=500, on=DAY) is first
    assert line == before
    with pytest.raises(IdempotencyConflict, match="requested for 500 cents, not 600"):
        line.request_draw(draw_id="d1", amount=600, on=DAY)
    assert line == before


def test_a_repeated_acceptance_or_failure_changes_nothing(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=500, on=DAY, rail=Rail.ACH)
    before = copy.deepcopy(line)
    line.disburse_draw(draw_id="d1", rail=Rail.ACH, on=DAY)
    assert line == before
    line.request_draw(draw_id="d2", amount=500, on=DAY)
    line.record_rail_decline(draw_id="d2", rail=Rail.ACH, on=DAY)
    line.fail_draw(draw_id="d2", on=DAY, reason="declined")
    before = copy.deepcopy(line)
    line.fail_draw(draw_id="d2", on=DAY, reason="declined")
    line.record_rail_decline(draw_id="d2", rail=Rail.ACH, on=DAY)
    assert line == before
    with pytest.raises(InvalidTransition, match="d2 is already FAILED"):
        line.record_rail_decline(draw_id="d2", rail=Rail.RTP, on=DAY)
    assert line == before


def test_a_draw_settles_one_way_only(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=500, on=DAY, rail=Rail.ACH)
    line.request_draw(draw_id="d2", amount=500, on=DAY)
    line.fail_draw(draw_id="d2", on=DAY, reason="declined")
    before = copy.deepcopy(line)
    with pytest.raises(InvalidTransition, match="d1 is already DISBURSED"):
        line.fail_draw(draw_id="d1", on=DAY, reason="late decline")
    with pytest.raises(InvalidTransition, match="d1 is already DISBURSED"):
        line.disburse_draw(draw_id="d1", rail=Rail.RTP, on=DAY)
    with pytest.raises(InvalidTransition, match="d2 is already FAILED"):
        line.disburse_draw(draw_id="d2", rail=Rail.RTP, on=DAY)
    with pytest.raises(NotFound, match="no draw 'd9'"):
        line.disburse_draw(draw_id="d9", rail=Rail.RTP, on=DAY)
    assert line == before


def test_draw_changes_are_audited(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=500, on=DAY)
    requested_draw, requested_line, accepted_draw, disbursed_line = line.outbox.changes
    assert (requested_draw.entity, requested_draw.process) == ("draw", "DRAW")
    assert FieldChange("status", None, "PENDING") in requested_draw.fields
    assert FieldChange("pending_draws_total", 0, 500) in requested_line.fields
    assert FieldChange("rail", None, "rtp") in accepted_draw.fields
    assert (disbursed_line.entity, disbursed_line.process, disbursed_line.user_id) == (
        "line",
        "DISBURSEMENT",
        "user-1",
    )
    assert FieldChange("principal_balance", 0, 500) in disbursed_line.fields


def test_a_returned_payment_can_put_the_line_over_limit(line: CreditLine) -> None:
    disbursed_draw(line, draw_id="d1", amount=100_000, on=DAY)
    line.submit_payment(payment_id="p1", amount=30_000, rail=Rail.ACH, on=DAY)
    disbursed_draw(line, draw_id="d2", amount=30_000, on=DAY)
    line.settle_payment(payment_id="p1", outcome=SettlementOutcome.RETURNED, on=DAY)
    assert line.principal_balance == 130_000
    assert line.available_credit == 0
    with pytest.raises(InsufficientCredit):
        line.request_draw(draw_id="d3", amount=1, on=DAY)


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["draw", "disburse", "fail", "pay"]), st.integers(1, 150_000)),
        max_size=25,
    )
)
def test_available_credit_stays_within_zero_and_the_limit(
    steps: list[tuple[str, int]],
) -> None:
    line = bare_line(DAY, apr=Decimal(20))
    for number, (action, amount) in enumerate(steps):
        pending = sorted(d for d, draw in line.draws.items() if draw.status is DrawStatus.PENDING)
        if action == "draw" and amount <= line.available_credit:
            line.request_draw(draw_id=f"d{number}", amount=amount, on=DAY)
        elif action == "disburse" and pending:
            line.disburse_draw(draw_id=pending[0], rail=Rail.ACH, on=DAY)
        elif action == "fail" and pending:
            line.fail_draw(draw_id=pending[0], on=DAY, reason="declined")
        elif action == "pay" and line.total_balance:
            line.submit_payment(
                payment_id=f"p{number}",
                amount=min(amount, line.total_balance),
                rail=Rail.ACH,
                on=DAY,
            )
        assert 0 <= line.available_credit <= line.credit_limit
        assert (
            line.available_credit
            == line.credit_limit - line.principal_balance - line.pending_draws_total
        )


def test_a_decline_is_audited_with_the_reason_the_service_gives(line: CreditLine) -> None:
    line.request_draw(draw_id="d1", amount=500, on=DAY)
    line.outbox.drain()
    line.record_rail_decline(draw_id="d1", rail=Rail.RTP, on=DAY)
    line.record_rail_decline(draw_id="d1", rail=Rail.PINLESS, on=DAY, reason="pinless unreachable")
    assert [change.reason for change in line.outbox.changes] == [
        "rtp declined the draw",
        "pinless unreachable",
    ]
    assert line.draws["d1"].declined_rails == (Rail.RTP, Rail.PINLESS)


def _opened_line() -> CreditLine:
    """The conftest's line: opened on Saturday 2026-01-10, cycles closing on the 10th."""
    opened_at = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)
    opened = line_offer(opened_at, credit_limit=100_000).open_line(
        line_id="line-1", now=opened_at, product=PRODUCT
    )
    opened.outbox.drain()
    return opened


def _outcome(act: Callable[[], object]) -> tuple[type[Exception], str] | None:
    try:
        act()
    except Exception as exc:  # noqa: BLE001 - whatever it raises is compared
        return type(exc), str(exc)
    return None


@given(
    status=st.sampled_from(LineStatus),
    earlier=st.integers(min_value=0, max_value=90_000),
    billed=st.booleans(),
    amount=st.one_of(st.integers(min_value=-5, max_value=120_000), st.just("10")),
    draw_id=st.sampled_from(["d1", "d2"]),
    day=st.integers(min_value=0, max_value=60),
)
def test_checking_a_draw_refuses_exactly_what_requesting_it_refuses_and_changes_nothing(
    *, status: LineStatus, earlier: int, billed: bool, amount: object, draw_id: str, day: int
) -> None:
    line = _opened_line()
    if earlier:
        disbursed_draw(line, draw_id="d1", amount=earlier, on=DAY)
    if billed:
        line.bill_cycle(
            close_date=dt.date(2026, 2, 10), today=dt.date(2026, 2, 10), product=PRODUCT
        )
    line.status = status
    on = DAY + dt.timedelta(days=day)
    before = copy.deepcopy(line)
    checked = _outcome(lambda: line.check_draw(draw_id=draw_id, amount=amount, on=on))
    assert line == before  # a check changes nothing, refused or not
    requested = _outcome(lambda: line.request_draw(draw_id=draw_id, amount=amount, on=on))
    assert checked == requested
