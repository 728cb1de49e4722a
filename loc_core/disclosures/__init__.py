"""The figures a borrower is told about the cost of credit (Regulation Z), as pure functions.

`loan_disclosure` gives an installment offer's Truth-in-Lending figures, with its
annual percentage rate by the actuarial method of Appendix J; `statement_disclosure`
gives a line's periodic statement figures; `line_disclosure` a line's account-opening
disclosure (12 CFR 1026.6(b)). Renderers (``loc_adapters.documents``) lay
them out; nothing here does I/O.
"""

from loc_core.disclosures.figures import (
    LineDisclosure,
    LoanDisclosure,
    ScheduledPayment,
    StatementDisclosure,
    StatementTransaction,
    spoken_date,
)
from loc_core.disclosures.lines import line_disclosure
from loc_core.disclosures.loans import annual_percentage_rate, loan_disclosure
from loc_core.disclosures.statements import statement_disclosure

__all__ = [
    "LineDisclosure",
    "LoanDisclosure",
    "ScheduledPayment",
    "StatementDisclosure",
    "StatementTransaction",
    "annual_percentage_rate",
    "line_disclosure",
    "loan_disclosure",
    "spoken_date",
    "statement_disclosure",
]
