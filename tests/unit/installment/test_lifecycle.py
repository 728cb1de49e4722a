"""The loan lifecycle state machine: random lives, every invariant after every step."""

from hypothesis import settings

from loc_core.testing.installment import LoanLifecycle


@settings(max_examples=150, stateful_step_count=50)
class TunedLoanLifecycle(LoanLifecycle):
    """Enough lives to reach defaults, caps and returns after payoff, in a few seconds."""


TestLoanLifecycle = TunedLoanLifecycle.TestCase
