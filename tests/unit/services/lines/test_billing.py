import datetime as dt

from deployment import Deployment

from loc_core.creditline import CreditLine
from loc_core.ledger import Bucket, receivable
from loc_core.services.commands import ListLineStatements

CLOSE = dt.date(2026, 4, 5)


def statements(world: Deployment, line: CreditLine) -> list[tuple[dt.date, int, int, dt.date]]:
    return [
        (s.statement_date, s.interest_charged, s.minimum_payment, s.due_date)
        for s in world.bus.handle(ListLineStatements(line.user_id, line.line_id))
    ]


def test_billing_on_the_close_date_writes_the_statement_and_tells_the_borrower(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(CLOSE, 8)
    report = world.bill()
    assert (report.job, report.business_date, report.acted) == (
        "loc_billing",
        CLOSE,
        (drawn.line_id,),
    )
    # 40,000 cents x 24 days (03-12 .. 04-04) x 29.99% / 365 = 788.78 -> 789;
    # minimum 789 + 3% x 40,000 = 1,989, due 04-26 (a Sunday) rolled to Monday 04-27.
    assert statements(world, drawn) == [(CLOSE, 789, 1_989, dt.date(2026, 4, 27))]
    line = world.line(drawn)
    assert (line.last_billing_cycle_date, line.next_due_date, line.interest_balance) == (
        CLOSE,
        dt.date(2026, 4, 27),
        789,
    )
    assert world.ledger(drawn.line_id).balance(receivable(drawn.line_id, Bucket.INTEREST)) == 789
    assert world.sent()[-1] == "loc_statement_ready"
    assert world.notifier.sent[-1].data["minimum_payment"] == 1_989
    (record,) = [r for r in world.audit("line", drawn.line_id) if r.change.process == "BILLING"]
    assert (record.actor, record.request_id) == ("loc_billing", "loc_billing:2026-04-05")


def test_rerunning_billing_for_a_billed_date_changes_nothing(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(CLOSE, 8)
    world.bill()
    before, sent = world.line(drawn), list(world.notifier.sent)
    world.at(CLOSE, 9)
    report = world.bill()
    assert (report.acted, report.skipped, report.failed) == ((), (drawn.line_id,), ())
    assert world.line(drawn) == before
    assert world.notifier.sent == sent
    assert len(statements(world, drawn)) == 1


def test_a_run_that_missed_the_close_date_catches_up_with_the_statement_dated_on_it(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(dt.date(2026, 4, 8), 8)
    assert world.bill().acted == (drawn.line_id,)
    assert statements(world, drawn) == [(CLOSE, 789, 1_989, dt.date(2026, 4, 27))]


def test_a_line_that_missed_several_closes_bills_each_cycle_in_order(
    world: Deployment, drawn: CreditLine
) -> None:
    world.at(dt.date(2026, 5, 7), 8)
    world.bill()
    assert [row[0] for row in statements(world, drawn)] == [CLOSE, dt.date(2026, 5, 5)]
    assert world.sent().count("loc_statement_ready") == 2


def test_lines_with_cycle_day_28_are_billed_by_the_catch_up_at_the_month_end(
    world: Deployment,
) -> None:
    world.at(dt.date(2026, 3, 30), 10)
    line = world.open_line()
    assert line.cycle_day == 28
    world.at(dt.date(2026, 4, 30), 8)  # the 28th's run failed; the 29th and 30th have no lines
    assert world.bill().acted == (line.line_id,)
    assert [row[0] for row in statements(world, line)] == [dt.date(2026, 4, 28)]


def test_one_bad_line_is_alerted_and_the_others_are_billed(world: Deployment) -> None:
    bad = world.open_line("user-1")
    good = world.open_line("user-2")

    def corrupt(stored: CreditLine) -> None:
        stored.principal_balance = 1  # a balance no activity explains

    world.edit_line(bad, corrupt)
    world.at(CLOSE, 8)
    report = world.bill()
    assert (report.acted, report.failed) == ((good.line_id,), (bad.line_id,))
    (alert,) = world.alerts()
    assert alert.title == f"loc_billing failed for line {bad.line_id}"
    assert str(alert.details["error"]).startswith("InvariantViolation")
    assert world.metrics.count("loc.lines.loc_billing.failed") == 1
    assert statements(world, bad) == []
    again = world.bill()
    assert (again.skipped, again.failed) == ((good.line_id,), (bad.line_id,))


def test_a_closed_line_is_not_billed(world: Deployment) -> None:
    line = world.open_line()
    world.edit_line(line, lambda stored: stored.close(on=dt.date(2026, 3, 6), reason="asked"))
    world.at(CLOSE, 8)
    report = world.bill()
    assert (report.acted, report.skipped, report.failed) == ((), (), ())
    assert statements(world, line) == []
