from hypothesis import settings

from loc_core.testing.creditline import CreditLineLifecycle

TestCreditLineLifecycle = CreditLineLifecycle.TestCase
TestCreditLineLifecycle.settings = settings(max_examples=300, stateful_step_count=60)
