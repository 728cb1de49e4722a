"""Users and underwriting for tests and simulations."""

from __future__ import annotations

import random
from decimal import Decimal

import attrs

from loc_core.applications import AdverseAction, ConsumerReport
from loc_core.errors import InvalidConfiguration, NotFound
from loc_core.installment import OriginationFee
from loc_core.ports import LineDecision, LoanDecision, User

DECLINED = AdverseAction("CREDIT_SCORE", "Your credit history does not meet our requirements")
CAPPED = AdverseAction("AMOUNT_ABOVE_MAXIMUM", "We do not grant credit in the amount you requested")
"""Why an approval is for less than requested: the amount is above `max_loan_amount`."""


@attrs.define
class InMemoryUsers:
    """`Users` from a dict; `add` registers an active user."""

    users: dict[str, User] = attrs.field(factory=dict)

    def add(
        self,
        user_id: str,
        *,
        active: bool = True,
        account_last_four: str = "6789",
        name: str | None = None,
    ) -> User:
        """Register (or replace) a user; `name` defaults to ``Borrower <user_id>``."""
        full_name = f"Borrower {user_id}" if name is None else name
        user = User(user_id, active, account_last_four, name=full_name)
        self.users[user_id] = user
        return user

    def get(self, user_id: str) -> User:
        """The user, or `NotFound`."""
        try:
            return self.users[user_id]
        except KeyError:
            raise NotFound(
                f"no user {user_id}", entity="user", entity_id=user_id, user_id=user_id
            ) from None


def _probability(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value <= 1:
        raise InvalidConfiguration(f"{attribute.name} must be a probability in [0, 1], got {value}")


@attrs.define
class SimulatedUnderwriting:
    """`Underwriting` that approves by a seeded draw per user and request.

    The same seed, user and request always get the same answer, whatever the order.
    """

    seed: int = 0
    loan_approval_probability: float = attrs.field(default=0.8, validator=_probability)
    line_approval_probability: float = attrs.field(default=0.7, validator=_probability)
    max_loan_amount: int = 50_000
    fee_percent: Decimal = Decimal(5)
    line_limits: tuple[int, ...] = (30_000, 50_000, 75_000, 100_000)
    apr: Decimal = Decimal("29.99")
    minimum_payment_percent: Decimal = Decimal(3)
    consumer_report: ConsumerReport | None = None
    """What every rejection and counteroffer says it used (the same report each time);
    None: no report."""
    _decisions: int = attrs.field(default=0, init=False)

    def decide_loan(self, user_id: str, *, requested_amount: int) -> LoanDecision:
        """Approve up to `max_loan_amount` at `fee_percent`, or reject.

        A request above `max_loan_amount` is approved for that much: a counteroffer, whose
        reason is `CAPPED` (with `consumer_report`).
        """
        draw = self._draw(user_id, f"loan:{requested_amount}")
        if draw.random() >= self.loan_approval_probability:
            return LoanDecision(
                approved=False, adverse_actions=(DECLINED,), consumer_report=self.consumer_report
            )
        fee = OriginationFee.percentage(self.fee_percent)
        if requested_amount > self.max_loan_amount:
            return LoanDecision(
                approved=True,
                loan_amount=self.max_loan_amount,
                fee=fee,
                adverse_actions=(CAPPED,),
                consumer_report=self.consumer_report,
            )
        return LoanDecision(approved=True, loan_amount=requested_amount, fee=fee)

    def decide_line(self, user_id: str) -> LineDecision:
        """Approve one of `line_limits` at `apr`, or reject."""
        draw = self._draw(user_id, "line")
        if draw.random() >= self.line_approval_probability:
            return LineDecision(
                approved=False, adverse_actions=(DECLINED,), consumer_report=self.consumer_report
            )
        return LineDecision(
            approved=True,
            credit_limit=draw.choice(self.line_limits),
            apr=self.apr,
            minimum_payment_percent=self.minimum_payment_percent,
        )

    def _draw(self, user_id: str, request: str) -> random.Random:
        self._decisions += 1
        return random.Random(f"{self.seed}:{user_id}:{request}")  # noqa: S311 - simulation, not security
