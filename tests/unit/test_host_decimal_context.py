"""A host process's `decimal` settings never change a figure the library computes.

`decimal.getcontext()` belongs to the calling thread and `decimal.DefaultContext` seeds
every new thread's context and every ``decimal.Context(...)`` built without all its
attributes: a host that set either (a precision of 3, rounding toward floor, `Inexact`
trapped, as a ledger service might to catch silent rounding) must still get the same
interest, APR and ledger (docs/foundations.md, "The host's decimal context").
"""

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
from pathlib import Path

from loc_adapters.dynamodb._dynamolock import parse_go_duration
from loc_core.disclosures import annual_percentage_rate
from loc_core.disclosures.figures import ScheduledPayment, repayment_period

HOSTILE = decimal.Context(
    prec=3,
    rounding=decimal.ROUND_FLOOR,
    capitals=0,
    traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation],
)

_FIGURES = """
import datetime as dt, decimal, json, sys
if sys.argv[1] == "hostile":  # before the library is imported, as a host's start-up does
    host = decimal.DefaultContext
    host.prec, host.rounding, host.capitals = 3, decimal.ROUND_FLOOR, 0
    host.traps[decimal.Inexact] = host.traps[decimal.Rounded] = True
    decimal.setcontext(decimal.Context())
from deployment import LINES_OPENED, Deployment
world = Deployment.build(now=LINES_OPENED)
line = world.open_line()
world.draw(line, 73_333)
world.clock.set(dt.datetime(2026, 4, 5, 8, tzinfo=dt.UTC))  # the cycle closes: billing
world.bill()
billed = world.line(line)
digest = world.database.ledger.digest()
print(json.dumps([billed.interest_balance, billed.next_minimum_payment_due, digest]))
"""


def figures(mode: str) -> list[object]:
    """Interest, minimum and ledger digest of one billed cycle, in a fresh process."""
    root = Path(__file__).resolve().parents[2]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "tests")])}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _FIGURES, mode],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr[-2_000:]
    answer: list[object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_a_host_default_context_changes_no_interest_and_no_ledger() -> None:
    """`DefaultContext` changed before import: billing ran in a context copied from it."""
    plain = figures("plain")
    assert plain[0] != 0  # a cycle with interest, so the comparison means something
    assert figures("hostile") == plain


def payments() -> list[ScheduledPayment]:
    first = dt.date(2026, 1, 5)
    return [
        ScheduledPayment(
            number=number,
            due_date=first + dt.timedelta(days=14 * number + number % 3),
            amount=5_250,
        )
        for number in range(1, 7)
    ]


def test_a_host_thread_context_changes_no_disclosed_figure() -> None:
    """The calling thread's context is the host's: the APR, a repayment period, a lease
    duration read from the Go lock table come out the same."""
    advanced = dt.date(2026, 1, 5)
    expected = (
        annual_percentage_rate(amount_financed=30_000, advanced_on=advanced, payments=payments()),
        repayment_period(30),
        parse_go_duration("1m30.123456s"),
    )
    with decimal.localcontext(HOSTILE):
        got = (
            annual_percentage_rate(
                amount_financed=30_000, advanced_on=advanced, payments=payments()
            ),
            repayment_period(30),
            parse_go_duration("1m30.123456s"),
        )
    assert got == expected
    assert expected[1:] == ("3 years", dt.timedelta(seconds=90, microseconds=123_456))
