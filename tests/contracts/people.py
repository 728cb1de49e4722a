"""The `Users` and `Underwriting` contracts.

Fixtures: `users`, the adapter under test, which knows ``user-1`` (active, account ending
6789, named ``Borrower user-1``) and ``user-2`` (inactive); `underwriting`, the adapter
under test, and `reference`, the `SimulatedUnderwriting` whose decisions it must give.
"""

import pytest

from loc_core.errors import NotFound
from loc_core.ports import Underwriting, User, Users


class UsersContract:
    def test_a_known_user_is_read_with_status_last_four_and_name(self, users: Users) -> None:
        assert users.get("user-1") == User(
            "user-1", active=True, account_last_four="6789", name="Borrower user-1"
        )
        assert not users.get("user-2").active

    def test_an_unknown_user_is_not_found(self, users: Users) -> None:
        with pytest.raises(NotFound) as missing:
            users.get("nobody")
        assert (missing.value.entity, missing.value.user_id) == ("user", "nobody")


class UnderwritingContract:
    @pytest.mark.parametrize("user_id", [f"user-{n}" for n in range(12)])
    def test_decisions_approve_within_the_request_or_say_why_not(
        self, underwriting: Underwriting, reference: Underwriting, user_id: str
    ) -> None:
        loan = underwriting.decide_loan(user_id, requested_amount=30_000)
        line = underwriting.decide_line(user_id)
        assert loan == reference.decide_loan(user_id, requested_amount=30_000)
        assert line == reference.decide_line(user_id)
        for decision in (loan, line):
            assert decision.approved != bool(decision.adverse_actions)
        if loan.approved:
            assert 0 < loan.loan_amount <= 30_000
            assert loan.fee is not None

    def test_an_approval_for_less_than_requested_says_why(
        self, underwriting: Underwriting, reference: Underwriting
    ) -> None:
        asked = 10_000_000  # above the maximum: approved, if at all, for less (a counteroffer)
        decisions = [
            (underwriting.decide_loan(user_id, requested_amount=asked), user_id)
            for user_id in (f"user-{n}" for n in range(12))
        ]
        for loan, user_id in decisions:
            assert loan == reference.decide_loan(user_id, requested_amount=asked)
        offers = [loan for loan, _ in decisions if loan.approved]
        assert offers
        for loan in offers:
            assert 0 < loan.loan_amount < asked
            assert loan.adverse_actions  # the reasons its adverse action notice states
