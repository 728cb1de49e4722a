import datetime as dt

import pytest
from fakes import loan_offer

from loc_core.applications import AdverseAction
from loc_core.errors import NotEligible
from loc_core.installment import (
    LoanApplication,
    LoanStatus,
    check_eligibility,
    require_eligible,
)

NOW = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


def offer(application_id: str = "app-1", *, made: dt.datetime = NOW) -> LoanApplication:
    return loan_offer(made, application_id=application_id)


def test_an_active_user_without_loans_or_offers_is_eligible() -> None:
    assert check_eligibility(user_active=True, loan_statuses=[], applications=[], now=NOW) == ()
    require_eligible(user_active=True, loan_statuses=[LoanStatus.CLOSED], applications=[], now=NOW)


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ([LoanStatus.OPEN], "OPEN_LOAN"),
        ([LoanStatus.CLOSED, LoanStatus.DEFAULTED], "DEFAULTED_LOAN"),
    ],
)
def test_an_open_or_defaulted_loan_makes_the_user_ineligible(
    statuses: list[LoanStatus], code: str
) -> None:
    assert check_eligibility(
        user_active=True, loan_statuses=statuses, applications=[], now=NOW
    ) == (code,)


def test_only_a_live_offer_blocks_a_new_application() -> None:
    expired = offer("app-old", made=NOW - dt.timedelta(days=2))
    converted = offer("app-used")
    converted.convert(loan_id="loan-1", now=NOW)
    rejected = LoanApplication.reject(
        user_id="user-1",
        application_id="app-no",
        adverse_actions=[AdverseAction("R01", "Insufficient income")],
        now=NOW,
    )
    others = [expired, converted, rejected]
    assert check_eligibility(user_active=True, loan_statuses=[], applications=others, now=NOW) == ()
    assert check_eligibility(
        user_active=True, loan_statuses=[], applications=[*others, offer()], now=NOW
    ) == ("LIVE_APPLICATION",)


def test_every_failed_rule_is_reported_at_once() -> None:
    with pytest.raises(NotEligible) as caught:
        require_eligible(
            user_active=False,
            loan_statuses=[LoanStatus.OPEN, LoanStatus.DEFAULTED],
            applications=[offer()],
            now=NOW,
        )
    assert caught.value.reasons == (
        "USER_INACTIVE",
        "OPEN_LOAN",
        "DEFAULTED_LOAN",
        "LIVE_APPLICATION",
    )
    assert str(caught.value) == (
        "not eligible: USER_INACTIVE, OPEN_LOAN, DEFAULTED_LOAN, LIVE_APPLICATION"
    )
