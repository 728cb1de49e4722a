"""``loc loans waive-fee``: an operator waives a late fee, and the trail says who."""

import datetime as dt

from click.testing import CliRunner
from deployment import Deployment

from loc_entrypoints.cli import main


def waive(world: Deployment, loan_id: str, installment_id: str, *flags: str) -> tuple[int, str]:
    arguments = ["loans", "waive-fee", loan_id, "--user", "user-1"]
    arguments += ["--installment", installment_id, *flags]
    result = CliRunner().invoke(main, arguments, obj={"bus": world.bus})
    return result.exit_code, result.output


def test_an_operator_waives_a_late_fee_once_and_the_trail_says_who() -> None:
    world = Deployment.build()
    world.users.add("user-1")
    loan = world.open_loan(autopay=False)
    world.at(dt.date(2026, 1, 25), 18)
    world.run_daily_loan_job()
    world.at(dt.date(2026, 1, 27), 10)
    first = loan.installments[0].installment_id

    code, output = waive(world, loan.loan_id, first, "--reason", "goodwill")
    assert code == 0, output
    assert "late fee of $2.63 on installment 1 waived as of 2026-01-25" in output
    assert "the loan owes $315.00" in output
    reasons = [r.change.reason for r in world.audit("installment", first)]
    assert "late fee of 263 cents waived: operator (loc loans waive-fee): goodwill" in reasons

    code, again = waive(world, loan.loan_id, first, "--reason", "goodwill")
    assert (code, again) == (0, output)
    code, output = waive(world, loan.loan_id, first, "--reason", "another")
    assert code == 1
    assert '"error": "IdempotencyConflict"' in output
    code, output = waive(world, loan.loan_id, loan.installments[2].installment_id, "--reason", "x")
    assert code == 1
    assert "carries no late fee" in output
