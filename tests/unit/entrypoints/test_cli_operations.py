"""``loc job run``, ``loc reconcile``, ``loc disputes resolve``: on the default, on a deployment."""

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from deployment import LINES_OPENED, Deployment

from loc_core.creditline import DisputedCharge
from loc_core.services.commands import DisputeBillingError, ListLines
from loc_entrypoints.cli import main

CLOSE = "2026-04-05"


@pytest.fixture
def world() -> Deployment:
    made = Deployment.build(now=LINES_OPENED, seed=11)
    for user in ("user-1", "user-2"):
        made.users.add(user)
        made.open_loan(user)
    line = made.open_line("user-1")
    made.at(dt.date(2026, 3, 12))
    made.draw(line, 40_000)
    return made


def invoke(world: Deployment | None, *arguments: str) -> tuple[int, str]:
    obj = None if world is None else {"bus": world.bus}
    result = CliRunner().invoke(main, list(arguments), obj=obj)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "name",
    [
        "billing_job",
        "collections_job",
        "daily_loan_job",
        "documents_job",
        "due_job",
        "overdue_job",
        "reconciliation_job",
        "recovery_job",
        "upcoming_job",
    ],
)
def test_every_job_runs_on_the_embedded_default(name: str) -> None:
    code, output = invoke(None, "job", "run", name)
    assert code == 0, output
    assert json.loads(output)["job"] == name


def test_a_job_runs_for_the_date_given_and_a_rerun_changes_nothing(world: Deployment) -> None:
    world.at(dt.date(2026, 4, 9), 9)
    code, output = invoke(world, "job", "run", "billing_job", "--date", CLOSE)
    assert code == 0, output
    assert json.loads(output) == {
        "job": "billing_job",
        "business_date": CLOSE,
        "processed": 1,
        "failed": 0,
        "skipped": 0,
        "failed_ids": [],
        "pages": 1,
        "handed_on": False,
    }
    code, output = invoke(world, "job", "run", "billing_job", "--date", CLOSE)
    assert (code, json.loads(output)["processed"]) == (0, 0)


def test_an_unknown_job_lists_the_names_and_a_bad_date_is_a_usage_error() -> None:
    code, output = invoke(None, "job", "run", "billing")
    assert code == 2
    assert "'billing_job', 'collections_job'" in output
    code, output = invoke(None, "job", "run", "billing_job", "--date", "05/04/2026")
    assert (code, "does not match the format '%Y-%m-%d'" in output) == (2, True)


def test_a_date_after_today_fails_with_the_reason(world: Deployment) -> None:
    code, output = invoke(world, "job", "run", "overdue_job", "--date", "2030-01-01")
    assert code == 1
    assert "after the business date" in output


def test_reconcile_one_borrower_or_everyone(world: Deployment) -> None:
    code, output = invoke(world, "reconcile", "--user", "user-1")
    assert code == 0, output
    assert "loans checked │     1" in output
    assert "lines checked │     1" in output
    code, output = invoke(world, "reconcile", "--all")
    assert code == 0, output
    assert "loans checked │     2" in output
    assert "mismatches    │     0" in output


def test_a_mismatch_is_listed_and_fails_the_command(world: Deployment) -> None:
    (line,) = world.database.scan("line", "user-1")
    world.edit_line(line, lambda stored: setattr(stored, "principal_balance", 1))
    code, output = invoke(world, "reconcile", "--all")
    assert code == 1
    assert f"mismatch: line {line.line_id}" in output


def test_reconcile_needs_exactly_one_scope() -> None:
    assert invoke(None, "reconcile")[0] == 2
    assert invoke(None, "reconcile", "--all", "--user", "u")[0] == 2


def test_disputes_resolve_credits_an_error_as_of_its_charge_once(world: Deployment) -> None:
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    world.at(dt.date(2026, 4, 10))
    (line,) = world.bus.handle(ListLines("user-1"))
    (draw_id,) = line.draws
    notice = DisputeBillingError(
        "user-1", line.line_id, dt.date(2026, 4, 5), DisputedCharge.DRAW, 100, "x", "k-1", draw_id
    )
    dispute_id = world.bus.handle(notice).dispute_id
    world.at(dt.date(2026, 4, 20))
    resolve = ("disputes", "resolve", dispute_id, "--user", "user-1", "--line", line.line_id)
    code, output = invoke(world, *resolve, "--error", "--explanation", "charged twice")
    assert code == 0, output
    # 100 and its interest: 40,000 x 24 days bills 789, 39,900 x 24 days 787
    assert "error: 102 cents credited as of 2026-03-12" in output
    assert invoke(world, *resolve, "--error", "--explanation", "charged twice") == (code, output)
    assert invoke(world, *resolve, "--no-error", "--explanation", "it was yours")[0] == 1
