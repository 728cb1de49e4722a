"""``loc autopay loan|line``: an operator turns a borrower's autopay on or off by phone."""

import copy

import pytest
from click.testing import CliRunner
from deployment import LINES_OPENED, Deployment

from loc_core.creditline import CreditLine, LineStatus
from loc_core.services.commands import SetLineAutopay
from loc_entrypoints.cli import main

REASON = "re-authorized by phone after a returned payment"
AUDITED = f"operator (loc autopay): {REASON}"


@pytest.fixture
def world() -> Deployment:
    made = Deployment.build(now=LINES_OPENED, seed=11)
    made.users.add("user-1")
    return made


def invoke(world: Deployment | None, *arguments: str) -> tuple[int, str]:
    obj = None if world is None else {"bus": world.bus}
    result = CliRunner().invoke(main, list(arguments), obj=obj)
    return result.exit_code, result.output


def autopay(world: Deployment | None, kind: str, entity_id: str, *flags: str) -> tuple[int, str]:
    return invoke(world, "autopay", kind, entity_id, "--user", "user-1", *flags)


def test_an_operator_turns_a_loans_autopay_off_then_on_and_the_trail_says_who(
    world: Deployment,
) -> None:
    loan = world.open_loan("user-1")
    assert world.loan(loan.loan_id).autopay_enabled
    code, output = autopay(world, "loan", loan.loan_id, "--off", "--reason", "asked to stop")
    assert code == 0, output
    assert f"loan {loan.loan_id} (user user-1): autopay is now off" in output
    assert not world.loan(loan.loan_id).autopay_enabled
    code, output = autopay(world, "loan", loan.loan_id, "--on", "--reason", REASON)
    assert code == 0, output
    assert "autopay is now on" in output
    assert world.loan(loan.loan_id).autopay_enabled
    [*_, off, on] = world.audit("loan", loan.loan_id)
    assert (off.change.process, off.change.reason) == (
        "AUTOPAY_SETTING",
        "operator (loc autopay): asked to stop",
    )
    assert (on.change.process, on.change.reason) == ("AUTOPAY_SETTING", AUDITED)


def test_a_lines_autopay_stopped_comes_back_on_and_a_repeat_changes_nothing(
    world: Deployment,
) -> None:
    line = world.open_line("user-1")
    world.bus.handle(SetLineAutopay("user-1", line.line_id, enabled=False, reason="R10 return"))
    code, output = autopay(world, "line", line.line_id, "--on", "--reason", REASON)
    assert code == 0, output
    assert f"line {line.line_id} (user user-1): autopay is now on" in output
    assert world.line(line).autopay_enabled
    audited = world.audit("line", line.line_id)
    assert audited[-1].change.reason == AUDITED
    code, output = autopay(world, "line", line.line_id, "--on", "--reason", REASON)
    assert code == 0, output
    assert "autopay was already on; nothing changed" in output
    assert world.audit("line", line.line_id) == audited


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        pytest.param("loan", "Error: no loan nope for user user-1", id="loan"),
        pytest.param("line", "Error: no credit line nope for user user-1", id="line"),
    ],
)
def test_an_unknown_id_is_one_line_and_exit_1_on_the_embedded_default(kind: str, said: str) -> None:
    code, output = autopay(None, kind, "nope", "--on", "--reason", REASON)
    assert code == 1
    assert said in output
    assert "Traceback" not in output


def test_another_borrowers_line_is_not_found_and_unchanged(world: Deployment) -> None:
    line = world.open_line("user-2")
    code, output = autopay(world, "line", line.line_id, "--off", "--reason", REASON)
    assert code == 1
    assert f"Error: no credit line {line.line_id} for user user-1" in output
    assert world.line(line).autopay_enabled


def defaulted(world: Deployment) -> CreditLine:
    """A charged-off line, its autopay off (set behind the services' back)."""
    line = world.open_line("user-1")

    def charge_off(stored: CreditLine) -> None:
        stored.status = LineStatus.DEFAULTED
        stored.autopay_enabled = False

    world.edit_line(line, charge_off)
    return line


def test_turning_on_a_defaulted_lines_autopay_is_refused_and_changes_nothing(
    world: Deployment,
) -> None:
    line = defaulted(world)
    before = copy.deepcopy(world.line(line))
    code, output = autopay(world, "line", line.line_id, "--on", "--reason", REASON)
    assert code == 1
    assert f"Error: line {line.line_id} is DEFAULTED: autopay cannot be turned on" in output
    assert world.line(line) == before


def test_a_closed_lines_setting_cannot_be_changed(world: Deployment) -> None:
    line = world.close(world.open_line("user-1"))
    code, output = autopay(world, "line", line.line_id, "--off", "--reason", REASON)
    assert code == 1
    assert f"Error: line {line.line_id} is CLOSED: its autopay cannot be changed" in output
    assert world.line(line).autopay_enabled


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        pytest.param(("--reason", REASON), "give --on or --off", id="no-setting"),
        pytest.param(("--off",), "Missing option '--reason'", id="no-reason"),
        pytest.param(("--off", "--reason", "  "), "give the reason", id="blank-reason"),
        pytest.param(("--off", "--reason", "x" * 500), "at most 476 characters", id="long"),
    ],
)
def test_a_missing_setting_or_reason_is_a_usage_error_and_changes_nothing(
    world: Deployment, arguments: tuple[str, ...], said: str
) -> None:
    line = world.open_line("user-1")
    code, output = autopay(world, "line", line.line_id, *arguments)
    assert code == 2
    assert said in output
    assert world.line(line).autopay_enabled


def test_a_malformed_id_or_user_is_a_usage_error() -> None:
    code, output = autopay(None, "loan", "a#b", "--off", "--reason", REASON)
    assert (code, "Invalid value for 'LOAN_ID'" in output) == (2, True)
    code, output = invoke(None, "autopay", "line", "l-1", "--user", "", "--off", "--reason", "x")
    assert (code, "Invalid value for '--user'" in output) == (2, True)
