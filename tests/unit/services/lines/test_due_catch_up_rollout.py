"""The first due run of a release with the catch-up takes no earlier day for missed.

Runs of earlier releases left no marks; a day without one says nothing about whether its
run finished. Without the rule, the first run would present the week before again: here,
a line whose due-date run left it (autopay off then, turned on since) would be debited.
"""

import datetime as dt

from deployment import Deployment

from loc_core.creditline import CreditLine
from loc_core.services.commands import SetLineAutopay

DUE = dt.date(2026, 4, 27)
"""The `billed` line's first statement is due."""


def test_the_first_run_after_deploying_the_catch_up_presents_no_earlier_due_date(
    world: Deployment, billed: CreditLine
) -> None:
    world.at(DUE - dt.timedelta(days=1), 10)
    world.bus.handle(SetLineAutopay(billed.user_id, billed.line_id, enabled=False))
    world.at(DUE + dt.timedelta(days=1), 10)  # an old release's due run left it on DUE
    world.bus.handle(SetLineAutopay(billed.user_id, billed.line_id, enabled=True))
    world.at(DUE + dt.timedelta(days=2), 15)

    assert world.due().acted == ()

    assert [s for s in world.sim.submitted if s.idempotency_key.startswith("due:")] == []
