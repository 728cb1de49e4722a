"""The first due run of a release with the catch-up takes no earlier day for missed.

Runs of earlier releases left no marks; a day without one says nothing about whether its
run finished. Without the rule, the first run would present the week before again: here,
a line whose due-date run left it (autopay off then, turned on since) would be debited.
"""

import datetime as dt

from deployment import Deployment

from loc_core.creditline import CreditLine
from loc_core.services.commands import CollectDueMinimums, SetLineAutopay

DUE = dt.date(2026, 4, 27)
"""The `billed` line's first statement is due."""


def autopay_turned_on_after_an_old_release_ran(world: Deployment, billed: CreditLine) -> None:
    """Autopay off on DUE (so the old release's run rightly left the line), on again since."""
    world.at(DUE - dt.timedelta(days=1), 10)
    world.bus.handle(SetLineAutopay(billed.user_id, billed.line_id, enabled=False))
    world.at(DUE + dt.timedelta(days=1), 10)  # an old release's due run left it on DUE
    world.bus.handle(SetLineAutopay(billed.user_id, billed.line_id, enabled=True))


def test_the_first_run_after_deploying_the_catch_up_presents_no_earlier_due_date(
    world: Deployment, billed: CreditLine
) -> None:
    autopay_turned_on_after_an_old_release_ran(world, billed)
    world.at(DUE + dt.timedelta(days=2), 15)

    assert world.due().acted == ()

    assert [s for s in world.sim.submitted if s.idempotency_key.startswith("due:")] == []


def test_an_operators_past_date_run_first_after_the_deploy_takes_no_older_run_for_missed(
    world: Deployment, billed: CreditLine
) -> None:
    """The new release's first run is an operator's rerun of 04-26; the old one ran 04-27, 28."""
    autopay_turned_on_after_an_old_release_ran(world, billed)
    world.at(DUE + dt.timedelta(days=2), 10)
    assert world.bus.handle(CollectDueMinimums(as_of=DUE - dt.timedelta(days=1))).acted == ()
    world.at(DUE + dt.timedelta(days=2), 15)

    assert world.due().acted == ()

    assert [s for s in world.sim.submitted if s.idempotency_key.startswith("due:")] == []


def test_a_past_date_run_before_the_first_marking_run_presents_no_earlier_due_date(
    world: Deployment, billed: CreditLine
) -> None:
    """The new release first ran 04-29; the operator then re-runs 04-28: 04-27 was the old one's."""
    autopay_turned_on_after_an_old_release_ran(world, billed)
    world.at(DUE + dt.timedelta(days=2), 15)
    assert world.due().acted == ()
    world.at(DUE + dt.timedelta(days=2), 16)

    assert world.bus.handle(CollectDueMinimums(as_of=DUE + dt.timedelta(days=1))).acted == ()

    assert [s for s in world.sim.submitted if s.idempotency_key.startswith("due:")] == []
