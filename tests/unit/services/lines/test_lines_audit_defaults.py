"""Audit: a line whose default a correction undid can default again, and its books say so."""

import datetime as dt

from deployment import Deployment
from fakes import declining

from loc_core.creditline import CreditLine, LineStatus
from loc_core.ledger import Bucket, allowance, receivable
from loc_core.payments import Rail
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
