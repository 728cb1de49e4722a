"""Making a loan from an accepted offer once the disbursement rail took the transfer.

The schedule is rebuilt from the actual disbursement date (the offer's was a proposal).
The origination fee is spread over the installments front-loaded (`split_evenly`), and
each installment's principal part is what is left of its total.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from loc_core.audit import ChangeRecorder
from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.errors import DomainError, InvalidConfiguration, InvalidTimestamp
from loc_core.events import DomainEvent, EventType
from loc_core.installment._checks import require_date, require_id, require_moment
from loc_core.installment.application import LoanApplication
from loc_core.installment.config import InstallmentProduct
from loc_core.installment.installment import Installment
from loc_core.installment.loan import Loan
from loc_core.installment.schedule import build_schedule
from loc_core.installment.vocabulary import Process
from loc_core.ledger import FUNDING, Bucket, JournalEntry, income, receivable
from loc_core.money import split_evenly
from loc_core.payments import Rail

__all__ = ["check_origination", "originate"]

_LAST_FOUR = re.compile(r"[0-9]{4}")


def originate(
    application: LoanApplication,
    *,
    product: InstallmentProduct,
    loan_id: str,
    installment_id: Callable[[int], str],
    disbursed_on: dt.date,
    rail: Rail,
    confirmation_id: str,
    now: dt.datetime,
    autopay_enabled: bool,
    account_last_four: str | None = None,
    disbursed: bool = False,
) -> Loan:
    """The OPEN loan made from `application`, which is marked converted.

    `disbursed` says a rail already paid the borrower: an offer that expired meanwhile
    is converted anyway (`LoanApplication.convert`).

    `installment_id(n)` names the n-th installment (1-based): pass a UUID factory in
    production, something readable in tests. The loan's outbox holds the creation
    changes, the disbursement entry and ``loan_disbursed``; the application's outbox its
    conversion.

    Raises:
        ApplicationNotApproved, ApplicationAlreadyConverted, ApplicationExpired: when the
            offer cannot be accepted at `now`.
        ScheduleError: when the offer's installment count is outside the product bounds.
        InvalidConfiguration: when the product's cadence is not the offer's, or the
            installment ids are blank or repeat.
        InvalidTimestamp: for a disbursement before the application, or a naive `now`.
        DomainError: for a blank loan or confirmation id, or a malformed last four.
    """
    loan = _made(
        application,
        product=product,
        loan_id=loan_id,
        installment_id=installment_id,
        disbursed_on=disbursed_on,
        rail=rail,
        confirmation_id=confirmation_id,
        now=now,
        autopay_enabled=autopay_enabled,
        account_last_four=account_last_four,
        disbursed=disbursed,
    )
    now, disbursed_on = loan.created_at, loan.disbursement_date
    installments = loan.installments
    fee = loan.origination_fee
    application.convert(loan_id=loan_id, now=now, disbursed=disbursed)
    recorder = ChangeRecorder(
        process=Process.CREATION,
        reason=f"disbursed {application.amount_disbursed} cents via {rail.value}",
    )
    recorder.created(loan)
    for installment in installments:
        recorder.created(installment)
    loan.outbox.changes.extend(recorder.changes())
    loan.outbox.entries.append(
        JournalEntry.build(
            entry_id=entry_id(loan_id, Movement.DISBURSE, product=Product.INSTALLMENT),
            kind=EntryKind.DISBURSEMENT,
            effective_date=disbursed_on,
            reference=loan_id,
            debits={
                receivable(loan_id, Bucket.PRINCIPAL): loan.loan_amount,
                receivable(loan_id, Bucket.ORIGINATION_FEE): fee,
            },
            credits={FUNDING: loan.amount_disbursed, income(Bucket.ORIGINATION_FEE): fee},
            memo=f"loan {loan.loan_number} via {rail.value} ({confirmation_id})",
        )
    )
    loan.outbox.events.append(
        DomainEvent(
            EventType.LOAN_DISBURSED,
            loan.user_id,
            loan_id,
            disbursed_on,
            {
                "loan_number": loan.loan_number,
                "amount_disbursed": loan.amount_disbursed,
                "total_amount": loan.total_amount,
                "first_due_date": installments[0].due_date.isoformat(),
            },
        )
    )
    return loan


def check_origination(
    application: LoanApplication,
    *,
    product: InstallmentProduct,
    disbursed_on: dt.date,
    rail: Rail,
    now: dt.datetime,
    autopay_enabled: bool,
    account_last_four: str | None = None,
) -> None:
    """Refuse, changing nothing, an offer `originate` would refuse (before any money moves).

    The loan is built and verified with placeholder ids, but `application` is not
    converted and nothing is recorded: what `originate` adds after building the loan (the
    conversion, audit changes, the balanced disbursement entry) cannot fail for a loan
    that verified.

    Raises:
        DomainError: what `originate` raises for this offer at `now` (its ids aside).
    """
    _made(
        application,
        product=product,
        loan_id="check",
        installment_id=lambda number: f"check-{number}",
        disbursed_on=disbursed_on,
        rail=rail,
        confirmation_id="check",
        now=now,
        autopay_enabled=autopay_enabled,
        account_last_four=account_last_four,
        disbursed=False,
    )


def _made(
    application: LoanApplication,
    *,
    product: InstallmentProduct,
    loan_id: str,
    installment_id: Callable[[int], str],
    disbursed_on: dt.date,
    rail: Rail,
    confirmation_id: str,
    now: dt.datetime,
    autopay_enabled: bool,
    account_last_four: str | None,
    disbursed: bool,
) -> Loan:
    """The verified OPEN loan of `application` (unchanged), without any record yet."""
    require_id(loan_id, field="loan_id")
    require_id(confirmation_id, field="confirmation_id")
    if not isinstance(rail, Rail):
        raise DomainError(f"rail must be a Rail, got {rail!r}")
    if not isinstance(autopay_enabled, bool):
        raise DomainError(f"autopay_enabled must be a bool, got {autopay_enabled!r}")
    if account_last_four is not None and (
        not isinstance(account_last_four, str) or not _LAST_FOUR.fullmatch(account_last_four)
    ):
        # Never echo the value: it may be a whole account number (docs/configuration.md,
        # *Personal data*); the error reaches the borrower's 422 and the logs.
        shape = (
            f"{len(account_last_four)} characters"
            if isinstance(account_last_four, str)
            else type(account_last_four).__name__
        )
        raise DomainError(f"account_last_four must be four digits, got {shape}")
    now = require_moment(now)
    disbursed_on = require_date(disbursed_on, field="disbursed_on")
    application.require_convertible(now, disbursed=disbursed)
    if disbursed_on < application.created_at.date():
        raise InvalidTimestamp(
            f"disbursed_on {disbursed_on.isoformat()} is before the application was made "
            f"on {application.created_at.date().isoformat()}"
        )
    if product.cadence is not application.repayment_cadence:
        raise InvalidConfiguration(
            f"the product repays {product.cadence.value}, the offer "
            f"{application.repayment_cadence.value}"
        )
    count = len(application.proposed_schedule)
    schedule = build_schedule(
        total_amount=application.total_amount,
        count=count,
        disbursed_on=disbursed_on,
        product=product,
    )
    ids = [installment_id(number) for number in range(1, count + 1)]
    for value in ids:
        require_id(value, field="installment id")
    if len(set(ids)) != count:
        raise InvalidConfiguration(f"installment ids must be unique, got {ids}")
    fee = application.origination_fee
    fee_type = application.fee_type
    if fee_type is None or application.loan_number is None:  # an APPROVED offer has both
        raise DomainError(
            f"application {application.application_id} carries no offer",
            about=application.ref,
        )
    installments = [
        Installment(
            user_id=application.user_id,
            loan_id=loan_id,
            installment_id=ids[number - 1],
            number=number,
            due_date=line.due_date,
            principal=line.amount - fee_part,
            origination_fee=fee_part,
            total_amount=line.amount,
            outstanding_balance=line.amount,
            update_reason="scheduled at disbursement",
            created_at=now,
            updated_at=now,
        )
        for number, (line, fee_part) in enumerate(
            zip(schedule, split_evenly(fee, count), strict=True), start=1
        )
    ]
    return Loan(
        user_id=application.user_id,
        loan_id=loan_id,
        application_id=application.application_id,
        loan_number=application.loan_number,
        loan_amount=application.loan_amount,
        origination_fee=fee,
        fee_type=fee_type,
        fee_percent=application.fee_percent,
        total_amount=application.total_amount,
        amount_disbursed=application.amount_disbursed,
        outstanding_balance=application.total_amount,
        repayment_cadence=application.repayment_cadence,
        disbursement_date=disbursed_on,
        disbursement_method=rail,
        confirmation_id=confirmation_id,
        account_last_four=account_last_four,
        autopay_enabled=autopay_enabled,
        product=product,
        installments=installments,
        created_at=now,
        updated_at=now,
    )
