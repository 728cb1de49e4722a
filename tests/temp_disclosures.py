"""TEMP until h15-figures merges: stand-ins for the disclosure compute functions.

On this branch `loan_disclosure` and `statement_disclosure` raise NotImplementedError, so
the documents tests build the disclosures from the records' own fields. The lead deletes
this module (and its `patch` calls) at the merge.
"""

from decimal import Decimal

import pytest

from loc_core.creditline import CreditLineProduct
from loc_core.creditline.statement import Statement
from loc_core.disclosures import LoanDisclosure, ScheduledPayment, StatementDisclosure
from loc_core.installment import InstallmentProduct, LoanApplication
from loc_core.services import filing


# TEMP until h15-figures merges: the compute functions raise NotImplementedError on this
# branch, so the flow's tests build the disclosures from the record's own fields.
def _loan_disclosure(application: LoanApplication, product: InstallmentProduct) -> LoanDisclosure:
    del product
    return LoanDisclosure(
        user_id=application.user_id,
        application_id=application.application_id,
        loan_number=application.loan_number or "",
        disclosed_on=application.created_at.date(),
        loan_amount=application.loan_amount,
        origination_fee=application.origination_fee,
        amount_financed=application.amount_disbursed,
        finance_charge=application.total_amount - application.amount_disbursed,
        total_of_payments=application.total_amount,
        annual_percentage_rate=Decimal(0),
        payments=tuple(
            ScheduledPayment(number=n, due_date=line.due_date, amount=line.amount)
            for n, line in enumerate(application.proposed_schedule, start=1)
        ),
        grace_days=0,
        late_fee_fixed=0,
        late_fee_percent=Decimal(0),
        late_fee_cap_percent=Decimal(0),
    )


def _statement_disclosure(
    statement: Statement, *, credit_limit: int, product: CreditLineProduct
) -> StatementDisclosure:
    del product
    return StatementDisclosure(
        user_id=statement.user_id,
        line_id=statement.line_id,
        statement_date=statement.statement_date,
        cycle_start=statement.cycle_start,
        cycle_end=statement.cycle_end,
        days_in_cycle=(statement.cycle_end - statement.cycle_start).days,
        previous_balance=0,
        payments=0,
        draws=0,
        reversals=0,
        adjustments=0,
        fees_charged=0,
        interest_charged=statement.interest_charged,
        new_balance=0,
        credit_limit=credit_limit,
        available_credit=0,
        annual_percentage_rate=Decimal(0),
        daily_periodic_rate=Decimal(0),
        balance_subject_to_interest=0,
        minimum_payment=statement.minimum_payment,
        past_due_amount=0,
        due_date=statement.due_date,
        late_fee=0,
        minimum_payment_months=None,
        minimum_payment_total=None,
        transactions=(),
    )


def patch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the stand-ins where `filing` looks the compute functions up."""
    monkeypatch.setattr(filing, "loan_disclosure", _loan_disclosure)
    monkeypatch.setattr(filing, "statement_disclosure", _statement_disclosure)
