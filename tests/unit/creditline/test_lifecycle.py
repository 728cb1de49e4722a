from hypothesis import settings

from loc_core.testing.creditline import CreditLineLifecycle

TestCreditLineLifecycle = CreditLineLifecycle.TestCase
TestCreditLineLifecycle.settings = settings(max_examples=200, stateful_step_count=60)
