"""The borrower's autopay setting on a line (`CreditLine.set_autopay`), as on a loan."""

import datetime as dt

import pytest
from fakes import refused

from loc_core.creditline import CreditLine, LineStatus
from loc_core.errors import DomainError, InvalidTransition
from loc_core.events import FieldChange

DAY = dt.date(2026, 1, 12)


def test_autopay_switches_off_and_on_audited_once_per_change(line: CreditLine) -> None:
    assert line.set_autopay(False, on=DAY, reason="borrower request") is True
    [change] = line.outbox.drain().changes
    assert (change.entity, change.process, change.reason) == (
        "line",
        "AUTOPAY_SETTING",
        "borrower request",
    )
    assert FieldChange("autopay_enabled", old=True, new=False) in change.fields
    assert line.set_autopay(False, on=DAY, reason="again") is False
    assert not line.outbox
    assert line.set_autopay(True, on=DAY, reason="borrower request") is True
    assert line.autopay_enabled is True


def test_a_closed_line_refuses_either_setting(line: CreditLine) -> None:
    line.close(on=DAY, reason="borrower asked")
    line.outbox.drain()
    for enabled in (False, True):
        with refused(line, InvalidTransition, match="CLOSED: its autopay cannot be changed"):
            line.set_autopay(enabled, on=DAY, reason="please")


def test_a_defaulted_line_may_stop_autopay_but_not_start_it(line: CreditLine) -> None:
    line.status = LineStatus.DEFAULTED  # charged off: the due job debits it no more
    assert line.set_autopay(False, on=DAY, reason="borrower request") is True
    with refused(line, InvalidTransition, match="DEFAULTED: autopay cannot be turned on"):
        line.set_autopay(True, on=DAY, reason="please")


@pytest.mark.parametrize(
    ("enabled", "reason", "field"),
    [
        pytest.param("yes", "please", "enabled", id="a-string-for-a-flag"),
        pytest.param(False, " ", "reason", id="a-blank-reason"),
    ],
)
def test_a_malformed_setting_is_refused(
    line: CreditLine, enabled: object, reason: str, field: str
) -> None:
    with refused(line, DomainError, match=field):
        line.set_autopay(enabled, on=DAY, reason=reason)  # type: ignore[arg-type]  # a wrong type, on purpose
