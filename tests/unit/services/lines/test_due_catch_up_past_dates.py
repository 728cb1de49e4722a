"""An operator's ``--date`` run of the due job presents no earlier day twice (docs/jobs.md).

A day's mark (`due_run_key`) is kept 9 days from when it was written; a ``--date`` run a
week or more back looks at days whose marks may be gone. A day whose mark may be gone
says nothing about its run, like a day before the catch-up was deployed: it is never
taken for missed. A product due 14 days after the statement keeps a line under its due
date past those 9 days (the next close is 16 days after it), so a finished day's line is
still listed then.
"""

import datetime as dt

import pytest
from deployment import LINES_OPENED, Deployment

from loc_core.creditline import CreditLineProduct
from loc_core.services.commands import CollectDueMinimums, SetLineAutopay

PRODUCT = CreditLineProduct(statement_to_due_days=14)
DUE = dt.date(2026, 4, 20)
"""The line's first statement (closed 04-05) is due 14 days later (a Sunday: the Monday); the
next close is 05-05."""


@pytest.fixture
def world() -> Deployment:
    """The lines' deployment under a product due 14 days after the statement."""
    return Deployment.build(now=LINES_OPENED, seed=11, overrides={CreditLineProduct: PRODUCT})


def test_a_past_date_run_does_not_present_a_finished_day_whose_mark_is_gone(
    world: Deployment,
) -> None:
    """Every run finished; a week later the operator re-runs 04-23: 04-20 stays as it ran."""
    world.due()  # this release's due job ran before: it marks its days from here
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    assert world.line(line).next_due_date == DUE
    world.at(DUE, 10)
    world.bus.handle(SetLineAutopay(line.user_id, line.line_id, enabled=False))
    for day in range(10):  # the due job runs every day; on 04-20 autopay is off
        world.at(DUE + dt.timedelta(days=day), 15)
        assert world.due().acted == ()
        if day == 1:
            world.bus.handle(SetLineAutopay(line.user_id, line.line_id, enabled=True))
    world.at(DUE + dt.timedelta(days=10), 10)  # 04-20's mark, kept 9 days, is gone

    assert world.bus.handle(CollectDueMinimums(as_of=DUE + dt.timedelta(days=3))).acted == ()

    assert [s for s in world.sim.submitted if s.idempotency_key.startswith("due:")] == []
