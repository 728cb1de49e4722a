"""``loc lines waive-fee``: an operator waives a line's late fee, and the trail says who."""

import datetime as dt

from click.testing import CliRunner
from deployment import LINES_OPENED, Deployment

from loc_entrypoints.cli import main


def waive(world: Deployment, line_id: str, cycle: str, *flags: str) -> tuple[int, str]:
    arguments = ["lines", "waive-fee", line_id, "--user", "user-1", "--cycle", cycle, *flags]
    result = CliRunner().invoke(main, arguments, obj={"bus": world.bus})
    return result.exit_code, result.output


def test_an_operator_waives_a_lines_late_fee_once_and_the_trail_says_who() -> None:
    world = Deployment.build(now=LINES_OPENED, seed=11)
    line = world.open_line()
    world.at(dt.date(2026, 3, 12))
    world.draw(line, 40_000)
    world.at(dt.date(2026, 4, 5), 8)
    world.bill()
    world.at(dt.date(2026, 4, 28), 16)
    world.overdue()  # the 1,989 due 04-27 unpaid: the cycle's $5.00 fee
    world.at(dt.date(2026, 4, 30), 10)

    code, output = waive(world, line.line_id, "2026-04-05", "--reason", "goodwill")
    assert code == 0, output
    assert "late fee of $5.00 for the cycle closed 2026-04-05 waived as of 2026-04-28" in output
    assert "the line owes $407.89" in output
    reference = f"{line.line_id}:2026-04-05:late_fee"
    [created] = world.audit("late_fee_waiver", reference)
    assert (
        created.change.reason
        == "late fee of 500 cents waived: operator (loc lines waive-fee): goodwill"
    )

    code, again = waive(world, line.line_id, "2026-04-05", "--reason", "goodwill")
    assert (code, again) == (0, output)
    code, output = waive(world, line.line_id, "2026-04-05", "--reason", "another")
    assert code == 1
    assert '"error": "IdempotencyConflict"' in output
    code, output = waive(world, line.line_id, "2026-03-05", "--reason", "x", "--key", "k-2")
    assert code == 1
    assert "carries no late fee" in output
