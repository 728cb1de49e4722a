import datetime as dt
from collections.abc import Callable

import attrs
import pytest
from deployment import Deployment
from fakes import (
    Crash,
    CrashingUnitOfWork,
    InterferingUnitOfWork,
    crash_after,
    declining,
    timing_out,
)

from loc_adapters.memory import StaticFeatureFlags
from loc_core.creditline import CreditLine, DrawStatus, LineStatus
from loc_core.errors import (
    ConcurrencyConflict,
    ExternalServiceError,
    IdempotencyConflict,
    InsufficientCredit,
    InvalidRequest,
    LineNotActive,
    NotFound,
)
from loc_core.ledger import FUNDING, Bucket, receivable
from loc_core.payments import Direction, Rail
from loc_core.ports import FeatureFlags, Severity, UnitOfWork
from loc_core.services.commands import DrawFromLine, ListLineStatements
from loc_core.services.lines import RTP_DISBURSEMENTS_FLAG, draw_id_for, parse_draw_transfer

DRAW_DAY = dt.date(2026, 3, 12)


@pytest.fixture
def opened(world: Deployment) -> Deployment:
    world.open_line()
    world.at(DRAW_DAY, 10)
    return world


def the_line(world: Deployment) -> CreditLine:
    with world.bus.get(UnitOfWork) as uow:
        return uow.lines.for_user("user-1")[0]


def test_a_draw_goes_out_by_rtp_and_raises_principal(opened: Deployment) -> None:
    line = the_line(opened)
    draw = opened.draw(line, 40_000)
    assert (draw.status, draw.rail, draw.settled_on) == (DrawStatus.DISBURSED, Rail.RTP, DRAW_DAY)
    stored = opened.line(line)
    assert (stored.principal_balance, stored.available_credit, stored.pending_draws_total) == (
        40_000,
        60_000,
        0,
    )
    (transfer,) = opened.sim.submitted
    assert (transfer.idempotency_key, transfer.rail, transfer.direction, transfer.amount) == (
        f"{draw.draw_id}:rtp",
        Rail.RTP,
        Direction.CREDIT,
        40_000,
    )
    ledger = opened.ledger(line.line_id)
    assert ledger.balance(receivable(line.line_id, Bucket.PRINCIPAL)) == 40_000
    assert ledger.balance(FUNDING) == -40_000
    assert opened.sent() == ["loc_draw_disbursed"]
    assert opened.audit_processes("draw", draw.draw_id) == ["DRAW", "DISBURSEMENT"]


def test_repeating_a_draw_returns_it_without_sending_money_again(opened: Deployment) -> None:
    line = the_line(opened)
    first = opened.draw(line, 40_000)
    opened.clock.advance(dt.timedelta(hours=1))
    assert opened.draw(line, 40_000) == first
    assert len(opened.sim.submitted) == 1
    assert opened.line(line).principal_balance == 40_000
    assert opened.sent() == ["loc_draw_disbursed"]
    with pytest.raises(IdempotencyConflict, match="not 50000"):
        opened.draw(line, 50_000)


def test_the_flag_switches_rtp_off(opened: Deployment) -> None:
    no_rtp = StaticFeatureFlags({RTP_DISBURSEMENTS_FLAG: False})
    draw = opened.using(FeatureFlags, no_rtp).draw(the_line(opened), 25_000)
    assert (draw.rail, draw.declined_rails) == (Rail.PINLESS, ())
    assert [call.rail for call in opened.rails.calls] == [Rail.PINLESS]


def test_when_every_rail_declines_the_draw_fails_and_nothing_is_owed(opened: Deployment) -> None:
    opened.rails.handler = declining(opened.sim, set(Rail))
    line = the_line(opened)
    draw = opened.draw(line, 25_000)
    assert draw.status is DrawStatus.FAILED
    assert draw.failure_reason.startswith("no rail accepted the draw: rtp declined")
    stored = opened.line(line)
    assert (stored.principal_balance, stored.available_credit, stored.pending_draws_total) == (
        0,
        100_000,
        0,
    )
    assert opened.ledger(line.line_id).balances() == {}
    assert opened.sim.submitted == []
    assert opened.sent() == ["loc_draw_failed"]
    assert opened.alerts() == []
    assert opened.draw(line, 25_000) == draw  # a repeat finds the failed draw
    assert len(opened.rails.calls) == 3
    assert opened.sent() == ["loc_draw_failed"]


def test_when_every_rail_is_down_the_draw_fails_and_operations_hear_of_it(
    opened: Deployment,
) -> None:
    opened.sim.down = set(Rail)
    draw = opened.draw(the_line(opened), 25_000)
    assert draw.status is DrawStatus.FAILED
    (alert,) = opened.alerts()
    assert alert.title == f"every rail was unreachable for draw {draw.draw_id}"
    assert opened.metrics.count("loc.lines.draw.rail") == 3


def _decline_rtp(world: Deployment) -> None:
    world.rails.handler = declining(world.sim, {Rail.RTP}, "said no")


def _take_rtp_down(world: Deployment) -> None:
    world.sim.down = {Rail.RTP}


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (_decline_rtp, "rtp declined (rtp said no)"),
        (_take_rtp_down, "rtp unreachable (rtp rail unreachable)"),
    ],
)
def test_a_declined_or_unreachable_rail_falls_back_to_the_next_and_is_never_asked_again(
    opened: Deployment, fault: Callable[[Deployment], None], reason: str
) -> None:
    fault(opened)
    line = the_line(opened)
    draw = opened.draw(line, 25_000)
    assert (draw.status, draw.rail, draw.declined_rails) == (
        DrawStatus.DISBURSED,
        Rail.PINLESS,
        (Rail.RTP,),
    )
    assert opened.alerts() == []
    reasons = [r.change.reason for r in opened.audit("draw", draw.draw_id)]
    assert reasons[1] == reason
    opened.sim.down = set()
    assert opened.draw(line, 25_000) == draw
    assert [t.rail for t in opened.sim.submitted] == [Rail.PINLESS]


def test_a_crash_after_the_rail_accepted_is_resumed_without_a_second_disbursement(
    opened: Deployment,
) -> None:
    opened.rails.handler = crash_after(opened.sim, {Rail.RTP})
    line = the_line(opened)
    with pytest.raises(Crash):
        opened.draw(line, 30_000)
    pending = opened.line(line)
    draw_id = draw_id_for(DrawFromLine("user-1", line.line_id, 30_000, "draw-1"))
    assert pending.draws[draw_id].status is DrawStatus.PENDING
    assert (pending.available_credit, pending.principal_balance) == (70_000, 0)
    draw = opened.draw(line, 30_000)
    assert (draw.status, draw.rail) == (DrawStatus.DISBURSED, Rail.RTP)
    assert len(opened.sim.submitted) == 1
    assert opened.line(line).principal_balance == 30_000
    assert opened.ledger(line.line_id).balance(FUNDING) == -30_000


def test_a_crash_before_the_disbursement_commit_is_resumed_once(
    opened: Deployment,
) -> None:
    line = the_line(opened)
    with pytest.raises(Crash):
        opened.using(UnitOfWork, CrashingUnitOfWork(opened.database, on_commit=3)).draw(
            line, 30_000
        )
    assert opened.line(line).pending_draws_total == 30_000
    opened.draw(line, 30_000)
    opened.draw(line, 30_000)
    assert len(opened.sim.submitted) == 1
    assert opened.line(line).principal_balance == 30_000
    assert opened.sent() == ["loc_draw_disbursed"]


@pytest.mark.parametrize(
    ("amount", "error"),
    [(100_001, InsufficientCredit), (0, InvalidRequest), (-5, InvalidRequest)],
)
def test_a_refused_draw_holds_nothing_and_calls_no_rail(
    opened: Deployment, amount: int, error: type[Exception]
) -> None:
    line = the_line(opened)
    with pytest.raises(error):
        opened.draw(line, amount)
    assert opened.line(line).draws == {}
    assert opened.rails.calls == []


def test_a_suspended_line_cannot_be_drawn_on(opened: Deployment) -> None:
    line = the_line(opened)

    def suspend(stored: CreditLine) -> None:
        stored.status = LineStatus.SUSPENDED

    opened.edit_line(line, suspend)
    with pytest.raises(LineNotActive, match="SUSPENDED"):
        opened.draw(line, 1_000)


def test_an_unknown_line_is_not_found(opened: Deployment) -> None:
    line = the_line(opened)
    with pytest.raises(NotFound):
        opened.draw(attrs.evolve(line, line_id="line-9"), 1_000)


def test_a_concurrent_change_to_the_line_is_retried_on_a_fresh_read(
    opened: Deployment,
) -> None:
    line = the_line(opened)

    def another_draw() -> None:
        opened.edit_line(
            line,
            lambda stored: stored.request_draw(draw_id="elsewhere", amount=80_000, on=DRAW_DAY),
        )

    racing = InterferingUnitOfWork(opened.database, another_draw)
    with pytest.raises(InsufficientCredit):  # the fresh read sees the other hold
        opened.using(UnitOfWork, racing).draw(line, 30_000)
    assert set(opened.line(line).draws) == {"elsewhere"}


def test_a_conflict_that_keeps_coming_gives_up_and_changes_nothing(
    opened: Deployment,
) -> None:
    line = the_line(opened)
    counter = iter(range(100))

    def touch() -> None:
        opened.edit_line(
            line,
            lambda stored: stored.request_draw(
                draw_id=f"small-{next(counter)}", amount=100, on=DRAW_DAY
            ),
        )

    racing = InterferingUnitOfWork(opened.database, touch, times=4)
    with pytest.raises(ConcurrencyConflict):
        opened.using(UnitOfWork, racing).draw(line, 1_000)
    assert not [draw_id for draw_id in opened.line(line).draws if draw_id.startswith("draw:")]
    assert opened.rails.calls == []


def test_a_draw_before_the_billing_run_bills_the_closed_cycle_first(opened: Deployment) -> None:
    line = the_line(opened)
    opened.draw(line, 40_000)
    opened.at(dt.date(2026, 4, 5), 2)  # the close date, six hours before loc_billing
    draw = opened.draw(line, 10_000, key="draw-2")
    assert draw.status is DrawStatus.DISBURSED
    (statement,) = opened.bus.handle(ListLineStatements(line.user_id, line.line_id))
    assert (statement.statement_date, statement.closing.principal) == (dt.date(2026, 4, 5), 40_000)
    assert opened.sent() == ["loc_draw_disbursed", "loc_statement_ready", "loc_draw_disbursed"]
    opened.at(dt.date(2026, 4, 5), 8)
    report = opened.bill()
    assert (report.acted, report.skipped) == ((), (line.line_id,))


def test_draw_transfer_keys_are_recognised() -> None:
    transfer = parse_draw_transfer("draw:user-1:line-1:my:key:with:colons:pinless")
    assert transfer is not None
    assert (transfer.user_id, transfer.line_id, transfer.draw_id, transfer.rail) == (
        "user-1",
        "line-1",
        "draw:user-1:line-1:my:key:with:colons",
        Rail.PINLESS,
    )
    assert parse_draw_transfer("pay:line-1:k:ach") is None
    assert parse_draw_transfer("draw:user-1:line-1:key:carrier-pigeon") is None


def test_metrics_count_each_rail_outcome(opened: Deployment) -> None:
    opened.rails.handler = declining(opened.sim, {Rail.RTP})
    opened.draw(the_line(opened), 1_000)
    counters = {
        tags: n for (name, tags), n in opened.metrics.counters.items() if name.endswith("rail")
    }
    assert counters == {
        ("outcome:declined", "rail:rtp"): 1,
        ("outcome:accepted", "rail:pinless"): 1,
    }
    assert Severity.CRITICAL not in {alert.severity for alert in opened.alerter.posted}


def test_a_notifier_outage_never_undoes_the_disbursement(opened: Deployment) -> None:
    opened.notifier.failing = True
    line = the_line(opened)
    draw = opened.draw(line, 5_000)
    assert draw.status is DrawStatus.DISBURSED
    assert opened.line(line).principal_balance == 5_000
    (warning,) = opened.alerts(Severity.WARNING)
    assert warning.title == "notification loc_draw_disbursed not sent; queued for a resend"


def test_a_crash_before_the_failure_is_recorded_fails_the_draw_on_retry(
    opened: Deployment,
) -> None:
    opened.rails.handler = declining(opened.sim, set(Rail))
    line = the_line(opened)
    with pytest.raises(
        Crash
    ):  # intent, hold, three declines, then the crash instead of the failure
        opened.using(UnitOfWork, CrashingUnitOfWork(opened.database, on_commit=6)).draw(line, 5_000)
    assert opened.line(line).pending_draws_total == 5_000
    calls = len(opened.rails.calls)
    draw = opened.draw(line, 5_000)
    assert draw.status is DrawStatus.FAILED
    assert draw.failure_reason == (
        "no rail accepted the draw: rtp did not accept, pinless did not accept, ach did not accept"
    )
    assert len(opened.rails.calls) == calls  # no rail was asked again
    assert opened.line(line).available_credit == 100_000


def test_a_rail_timing_out_after_sending_leaves_the_draw_pending_and_never_tries_another(
    opened: Deployment,
) -> None:
    # RTP may have sent the money: offering the draw to pinless could pay it twice.
    opened.rails.handler = timing_out(opened.sim, {Rail.RTP})
    line = the_line(opened)
    with pytest.raises(ExternalServiceError, match="timed out after the request was sent"):
        opened.draw(line, 30_000)
    assert [call.rail for call in opened.rails.calls] == [Rail.RTP]
    draw_id = draw_id_for(DrawFromLine("user-1", line.line_id, 30_000, "draw-1"))
    pending = opened.line(line).draws[draw_id]
    assert (pending.status, pending.declined_rails) == (DrawStatus.PENDING, ())
    draw = opened.draw(line, 30_000)  # the retry asks RTP again with the same key
    assert (draw.status, draw.rail) == (DrawStatus.DISBURSED, Rail.RTP)
    assert len(opened.sim.submitted) == 1
    assert opened.ledger(line.line_id).balance(FUNDING) == -30_000
