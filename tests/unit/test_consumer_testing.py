"""`loc_core.testing` as another team's suite uses it.

A test file outside this repository, with only the documented imports and none of this
suite's hypothesis profiles (a short, derandomized run of its own, set on subclasses as the
docs show), runs every state machine and draws from the strategies; and the
strategies reach the calendar's edge days (leap days, month ends, weekends, holidays)
within one default run of 100 examples, not once in a thousand runs.
"""

import collections
import datetime as dt
import os
import pathlib
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core import calendar
from loc_core.testing import creditline, installment

CONSUMER_TEST = """\
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.creditline import CreditLine
from loc_core.installment import Loan, Process
from loc_core.ledger import Ledger
from loc_core.payments import Rail
from loc_core.testing import FIRST_DAY, LAST_DAY, days
from loc_core.testing.creditline import CreditLineLifecycle, draw_amounts, lines
from loc_core.testing.installment import (
    LoanLifecycle,
    ReturnedDisbursementLifecycle,
    ledger_problems,
    loans,
    payment_amounts,
)

# our own settings, as the docs show them: a short, reproducible run, no per-example
# deadline (a life of 20 steps is not one fast call), on a subclass so that no other
# module's settings for the same machine leak into ours
OURS = settings(
    max_examples=10, stateful_step_count=20, derandomize=True, database=None, deadline=None
)


@OURS
class OurLoans(LoanLifecycle):
    \"\"\"Our loans' random lives.\"\"\"


@OURS
class OurReturnedLoans(ReturnedDisbursementLifecycle):
    \"\"\"Lives in which the disbursement may come back.\"\"\"


@OURS
class OurLines(CreditLineLifecycle):
    \"\"\"Our lines' random lives.\"\"\"


TestOurLoans = OurLoans.TestCase
TestOurReturnedLoans = OurReturnedLoans.TestCase
TestOurLines = OurLines.TestCase


@OURS
@given(loans(), lines(), days(), st.data())
def test_our_payments(loan: Loan, line: CreditLine, day: dt.date, data: st.DataObject) -> None:
    ledger = Ledger()
    ledger.post_all(loan.outbox.drain().entries)
    amount = data.draw(payment_amounts(loan))
    loan.apply_payment(
        "ours-1", amount, process=Process.MANUAL, rail=Rail.ACH, today=loan.disbursement_date
    )
    ledger.post_all(loan.outbox.drain().entries)
    assert ledger_problems(loan, ledger) == []
    assert 1 <= data.draw(draw_amounts(line)) <= line.credit_limit
    assert FIRST_DAY <= min(day, line.opened_on) <= max(day, line.opened_on) <= LAST_DAY
"""


def test_an_outside_suite_runs_every_machine_and_strategy_with_the_documented_imports(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "test_our_loans.py").write_text(CONSUMER_TEST)
    ran = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        # none of the plugins installed here: an outside suite needs none of them
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "4 passed" in ran.stdout


def _kinds(day: dt.date) -> set[str]:
    kinds = set()
    if (day.month, day.day) == (2, 29):
        kinds.add("leap day")
    if (day + dt.timedelta(days=1)).day == 1:
        kinds.add("month end")
    if day.weekday() >= 5:  # Saturday and Sunday
        kinds.add("weekend")
    if calendar.is_holiday(day):
        kinds.add("holiday")
    return kinds


STRATEGIES: list[tuple[st.SearchStrategy[object], Callable[[object], dt.date]]] = [
    (installment.loans(), lambda loan: loan.disbursement_date),  # type: ignore[attr-defined]
    (installment.applications(), lambda app: app.created_at.date()),  # type: ignore[attr-defined]
    (creditline.lines(), lambda line: line.opened_on),  # type: ignore[attr-defined]
    (creditline.opening_moments(), lambda moment: moment.date()),  # type: ignore[attr-defined]
]


@pytest.mark.parametrize(
    ("strategy", "day_of"),
    [
        pytest.param(*STRATEGIES[0], id="installment.loans"),
        pytest.param(*STRATEGIES[1], id="installment.applications"),
        pytest.param(*STRATEGIES[2], id="creditline.lines"),
        pytest.param(*STRATEGIES[3], id="creditline.opening_moments"),
    ],
)
def test_strategies_reach_the_calendars_edge_days_in_one_default_run(
    strategy: st.SearchStrategy[object], day_of: Callable[[object], dt.date]
) -> None:
    seen: collections.Counter[str] = collections.Counter()

    @settings(max_examples=100, derandomize=True, database=None)
    @given(strategy)
    def draw(value: object) -> None:
        seen.update(_kinds(day_of(value)))

    draw()
    assert set(seen) == {"leap day", "month end", "weekend", "holiday"}, seen
