"""Audit: a line whose default a correction undid can default again, and its books say so."""

import datetime as dt

from deployment import LINES_OPENED, Deployment
from fakes import declining

from loc_core.creditline import CreditLine, CreditLineProduct, LineStatus
from loc_core.ledger import CREDIT_LOSS, Bucket, allowance, receivable
from loc_core.payments import Rail
from loc_core.ports import Severity
from loc_core.services.commands import BookBackdatedLinePayment, ReconcileLine


def test_a_line_a_correction_brought_back_from_default_defaults_again_with_its_charge_off(
    world: Deployment, billed: CreditLine
) -> None:
    # Every debit declines: the 1,989 due 04-27 is never collected, late from 04-28.
    world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})
    world.run_days(dt.date(2026, 4, 6), dt.date(2026, 7, 26))
    assert world.line(billed).status is LineStatus.DEFAULTED  # 90 days past due on 07-26
    # An operator finds the minimum was mailed in on 04-24, before its due date: as of
    # then, the line was late only from the next due date (05-27), so it is not defaulted.
    world.at(dt.date(2026, 7, 27), 17)
    world.bus.handle(
        BookBackdatedLinePayment(
            billed.user_id,
            billed.line_id,
            1_989,
            dt.date(2026, 4, 24),
            "cheque received 04-24, keyed late",
            "cheque-1",
        )
    )
    assert world.line(billed).status is LineStatus.SUSPENDED
    # Still nothing paid since: 90 days past the 05-27 due date it defaults again.
    world.run_days(dt.date(2026, 7, 28), dt.date(2026, 8, 26))
    line = world.line(billed)
    assert line.status is LineStatus.DEFAULTED
    assert not [title for title in world.alert_titles() if "loc_overdue failed" in title]
    ledger = world.ledger(billed.line_id)
    assert -ledger.balance(allowance(billed.line_id)) == line.total_balance
    assert ledger.balance(receivable(billed.line_id, Bucket.PRINCIPAL)) == line.principal_balance
    assert world.bus.handle(ReconcileLine(billed.user_id, billed.line_id)).matches


def test_a_charged_off_line_gets_no_statement_and_a_payoff_recovers_it_and_reconciles() -> None:
    world = Deployment.build(
        now=LINES_OPENED,
        seed=11,
        overrides={CreditLineProduct: CreditLineProduct(default_after_days_past_due=1)},
    )
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.rails.handler = declining(world.sim, {Rail.PINLESS, Rail.ACH})
    world.run_days(dt.date(2026, 4, 5), dt.date(2026, 4, 28))  # 1,989 due 04-27, missed
    assert world.line(line).status is LineStatus.DEFAULTED
    assert world.sent().count("loc_charged_off") == 1
    statements = world.sent().count("loc_statement_ready")
    world.run_days(dt.date(2026, 4, 29), dt.date(2026, 5, 6))  # the 05-05 close is billed
    assert world.sent().count("loc_statement_ready") == statements  # none sent
    assert world.line(line).last_billing_cycle_date == dt.date(2026, 5, 5)
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches
    world.rails.handler = world.sim.submit
    owed = world.line(line).total_balance
    world.pay_line(line, owed, key="payoff")
    ledger = world.ledger(line.line_id)
    assert (ledger.balance(allowance(line.line_id)), ledger.balance(CREDIT_LOSS)) == (0, 0)
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches
    assert world.close(line).status is LineStatus.CLOSED
    assert world.bus.handle(ReconcileLine(line.user_id, line.line_id)).matches
    assert world.alerts(Severity.CRITICAL) == []
