"""Compliance monitors: a movement at or above $10,000, and more than 5 a minute by a user."""

import datetime as dt
from decimal import Decimal

import pytest
from deployment import LINES_OPENED, Deployment

from loc_adapters.memory import SimulatedUnderwriting
from loc_core.creditline import CreditLine
from loc_core.ports import Alert, Severity
from loc_core.services.compliance import (
    BURST_RULE,
    LARGE_MOVEMENT_RULE,
    CompliancePolicy,
    MovementWindows,
)


@pytest.fixture
def world() -> Deployment:
    """A deployment whose lines are approved for $25,000.00."""
    underwriting = SimulatedUnderwriting(
        line_approval_probability=1, fee_percent=Decimal(5), line_limits=(2_500_000,)
    )
    return Deployment.build(now=LINES_OPENED, seed=11, underwriting=underwriting)


@pytest.fixture
def line(world: Deployment) -> CreditLine:
    line = world.open_line("user-big")
    world.at(dt.date(2026, 3, 12))
    return line


def flagged(world: Deployment, rule: str) -> list[Alert]:
    return [a for a in world.alerter.posted if a.details.get("rule") == rule]


def test_a_movement_of_10000_dollars_is_alerted_naming_user_amount_and_rule(
    world: Deployment, line: CreditLine
) -> None:
    world.draw(line, 1_000_000)
    (alert,) = flagged(world, LARGE_MOVEMENT_RULE)
    assert alert.severity is Severity.WARNING
    assert alert.details["user_id"] == "user-big"
    assert alert.details["amount"] == 1_000_000
    assert alert.details["kind"] == "draw"
    assert "1000000 cents" in alert.title
    shown = f"{alert.title} {dict(alert.details)}"
    assert line.line_id not in shown  # no account: the user, the amount and the rule
    assert "account" not in shown


def test_a_payment_of_10000_dollars_is_alerted_too(world: Deployment, line: CreditLine) -> None:
    world.draw(line, 1_500_000)
    world.alerter.posted.clear()
    world.at(dt.date(2026, 3, 13))
    world.pay_line(line, 1_000_000)
    (alert,) = flagged(world, LARGE_MOVEMENT_RULE)
    assert (alert.details["kind"], alert.details["direction"]) == ("line_payment", "debit")


def test_9999_dollars_99_is_not_alerted(world: Deployment, line: CreditLine) -> None:
    world.draw(line, 999_999)
    assert flagged(world, LARGE_MOVEMENT_RULE) == []


def test_a_resumed_movement_is_not_counted_again(world: Deployment, line: CreditLine) -> None:
    for _ in range(7):
        world.draw(line, 1_000_000, key="same-key")
    assert len(flagged(world, LARGE_MOVEMENT_RULE)) == 1
    assert flagged(world, BURST_RULE) == []


def draws(world: Deployment, line: CreditLine, count: int, every: dt.timedelta) -> None:
    for number in range(count):
        world.draw(line, 1_000, key=f"draw-{number}")
        world.clock.advance(every)


def test_the_sixth_movement_within_a_minute_is_alerted(world: Deployment, line: CreditLine) -> None:
    draws(world, line, 6, dt.timedelta(seconds=10))
    (alert,) = flagged(world, BURST_RULE)
    assert alert.severity is Severity.WARNING
    assert (alert.details["user_id"], alert.details["count"]) == ("user-big", 6)
    assert alert.details["window_seconds"] == 60
    assert line.line_id not in f"{alert.title} {dict(alert.details)}"


def test_five_within_a_minute_are_not(world: Deployment, line: CreditLine) -> None:
    draws(world, line, 5, dt.timedelta(seconds=10))
    assert flagged(world, BURST_RULE) == []


def test_six_spread_over_two_minutes_are_not(world: Deployment, line: CreditLine) -> None:
    draws(world, line, 6, dt.timedelta(seconds=24))
    assert flagged(world, BURST_RULE) == []


def test_each_user_is_counted_on_their_own(world: Deployment, line: CreditLine) -> None:
    other = world.open_line("user-other")
    for number in range(3):
        world.draw(line, 1_000, key=f"a-{number}")
        world.draw(other, 1_000, key=f"b-{number}")
    assert flagged(world, BURST_RULE) == []


def test_the_policy_is_on_the_bus_and_can_be_changed() -> None:
    strict = CompliancePolicy(large_movement=50_000, burst_count=1)
    world = Deployment.build(now=LINES_OPENED, overrides={CompliancePolicy: strict})
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 50_000, key="one")
    world.draw(line, 1_000, key="two")
    assert [a.details["rule"] for a in world.alerter.posted if "rule" in a.details] == [
        LARGE_MOVEMENT_RULE,
        BURST_RULE,
    ]
    assert CompliancePolicy() == CompliancePolicy(
        large_movement=1_000_000, burst_count=5, burst_window=dt.timedelta(minutes=1)
    )


def test_the_window_forgets_idle_users() -> None:
    windows = MovementWindows()
    start = dt.datetime(2026, 3, 12, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    for number in range(100):
        windows.count(f"user-{number}", start, minute)
    assert windows.count("late", start + 2 * minute, minute) == 1
    assert len(windows) == 1
