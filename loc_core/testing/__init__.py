"""Hypothesis strategies and state machines for test suites that build on `loc`.

Needs the ``testing`` extra (``pip install 'loc[testing]'``). The calendar strategies
(`days`, `moments`, and the `EDGE_DAYS` they draw often) are here; the products'
strategies and machines are in `loc_core.testing.installment` and
`loc_core.testing.creditline` (docs/architecture.md, "Reusing the test kit").
"""

from loc_core.testing._calendar import EDGE_DAYS, FIRST_DAY, LAST_DAY, days, moments

__all__ = ["EDGE_DAYS", "FIRST_DAY", "LAST_DAY", "days", "moments"]
