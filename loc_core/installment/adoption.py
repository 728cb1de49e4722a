"""Adopting a loan the Go service wrote: verify its balances, rebuild its payments and books.

The Go service kept what each payment paid only on the installments (``loc_applications``)
and kept no journal. This library refuses a loan whose installments name payments it has
no record of, and proves balances from the journal, so before it can serve such a loan it
needs both. This module derives them from what the Go service stored, once it has checked
that the stored balances agree with each other; storing them is the adapter's business
(``loc_adapters.dynamodb.adopt``). The installments given here already carry the parts and
application splits `loc_core.installment.legacy` derives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import attrs

from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.errors import InvariantViolation
from loc_core.installment.installment import WATERFALL, Installment, PaymentApplication
from loc_core.installment.payment import Payment
from loc_core.installment.vocabulary import LoanStatus, Process
from loc_core.ledger import (
    CLEARING,
    CREDIT_LOSS,
    FUNDING,
    Bucket,
    JournalEntry,
    allowance,
    income,
    receivable,
)
from loc_core.payments import PaymentStatus, Rail

__all__ = [
    "ADOPTED_RAIL",
    "Adoption",
    "GoLoan",
    "adopt",
    "adoption_entry_id",
    "opening_entry",
    "problems",
    "readopt",
    "rebuild_payments",
]

ADOPTED_RAIL = Rail.ACH
"""The rail of a rebuilt payment: the Go service stored none; ACH can still be returned."""


@attrs.frozen(kw_only=True)
class GoLoan:
    """What adoption reads of a loan the Go service wrote: its stored balances."""

    user_id: str
    loan_id: str
    status: LoanStatus
    outstanding_balance: int
    installments: tuple[Installment, ...]
    """In number order, their parts and application splits derived (`legacy`)."""


@attrs.frozen(kw_only=True)
class Adoption:
    """What this library must store to serve a Go loan: its payments and opening books."""

    payments: tuple[Payment, ...]
    entry: JournalEntry


def adoption_entry_id(loan_id: str) -> str:
    """The id of a loan's opening entry (``"<loan id>:adopted"``): posted once, ever."""
    return entry_id(loan_id, Movement.ADOPT, product=Product.INSTALLMENT)


def problems(loan: GoLoan) -> list[str]:
    """Every way the stored balances of a Go loan disagree (empty when adoptable).

    Each installment's outstanding must be its total less its applications, and the
    loan's outstanding the sum of its installments'.
    """
    found: list[str] = []
    for installment in loan.installments:
        installment_id = installment.installment_id
        where = f"installment {installment_id}"
        applied = sum(app.amount for app in installment.applications)
        if installment.outstanding_balance != installment.total_amount - applied:
            found.append(
                f"{where}: outstanding {installment.outstanding_balance} != total "
                f"{installment.total_amount} - applications {applied}"
            )
        if any(app.installment_id != installment_id for app in installment.applications):
            found.append(f"{where}: holds an application of another installment")
        if any(part < 0 for part in installment.unpaid_parts()):
            found.append(f"{where}: its applications pay more than a part owed")
    owed = sum(i.outstanding_balance for i in loan.installments)
    if loan.outstanding_balance != owed:
        found.append(f"loan outstanding {loan.outstanding_balance} != sum of installments {owed}")
    if not loan.installments:
        found.append("a loan needs installments")
    return found


def rebuild_payments(loan: GoLoan) -> tuple[Payment, ...]:
    """One COMPLETED payment per payment id the installments name, with its allocation.

    Its amount is what it applied across installments, its day the earliest application's,
    its process AUTOPAY when an installment it paid was last changed by autopay (else
    MANUAL), its rail `ADOPTED_RAIL`. Ordered by day, then id.
    """
    applications: dict[str, list[PaymentApplication]] = {}
    autopay: set[str] = set()
    for installment in loan.installments:
        for app in installment.applications:
            applications.setdefault(app.payment_id, []).append(app)
            if installment.process is Process.AUTOPAY:
                autopay.add(app.payment_id)
    payments = [
        Payment(
            payment_id=payment_id,
            user_id=loan.user_id,
            loan_id=loan.loan_id,
            amount=sum(app.amount for app in apps),
            process=Process.AUTOPAY if payment_id in autopay else Process.MANUAL,
            rail=ADOPTED_RAIL,
            submitted_on=min(app.payment_date for app in apps),
            applications=tuple(apps),
            status=PaymentStatus.COMPLETED,
            settled_on=min(app.payment_date for app in apps),
        )
        for payment_id, apps in applications.items()
    ]
    return tuple(sorted(payments, key=lambda p: (p.submitted_on, p.payment_id)))


def opening_entry(loan: GoLoan, payments: Sequence[Payment], *, on: dt.date) -> JournalEntry:
    """The ``adopted`` entry that makes the ledger equal the loan's stored balances.

    It books the loan's whole history at once: each receivable bucket is debited with
    what is still owed in it, clearing with what the payments applied, and funding and
    income credited with the principal and fees the installments carry; a DEFAULTED loan
    also reserves what is owed (as its charge-off would have).
    """
    unpaid = dict.fromkeys(WATERFALL, 0)
    carried = dict.fromkeys(WATERFALL, 0)
    for installment in loan.installments:
        for bucket, owed in zip(WATERFALL, installment.unpaid_parts(), strict=True):
            unpaid[bucket] += owed
            carried[bucket] += installment.part(bucket)
    debits = {receivable(loan.loan_id, bucket): owed for bucket, owed in unpaid.items()}
    debits[CLEARING] = sum(payment.applied_amount for payment in payments)
    earned = {
        FUNDING: carried[Bucket.PRINCIPAL],
        income(Bucket.ORIGINATION_FEE): carried[Bucket.ORIGINATION_FEE],
        income(Bucket.LATE_FEE): carried[Bucket.LATE_FEE],
    }
    if loan.status is LoanStatus.DEFAULTED:
        debits[CREDIT_LOSS] = loan.outstanding_balance
        earned[allowance(loan.loan_id)] = loan.outstanding_balance
    return JournalEntry.build(
        entry_id=adoption_entry_id(loan.loan_id),
        kind=EntryKind.ADOPTED,
        effective_date=on,
        reference=loan.loan_id,
        debits=debits,
        credits=earned,
        memo=f"adopted from the Go service with {len(payments)} payments",
    )


def adopt(loan: GoLoan, *, on: dt.date) -> Adoption:
    """The payments and opening entry to store for `loan`, adopted on `on`.

    Raises:
        InvariantViolation: naming the first disagreement `problems` finds.
    """
    found = problems(loan)
    if found:
        raise InvariantViolation(
            f"loan {loan.loan_id} cannot be adopted: {found[0]}",
            entity="loan",
            entity_id=loan.loan_id,
            invariant="adoptable",
        )
    payments = rebuild_payments(loan)
    return Adoption(payments=payments, entry=opening_entry(loan, payments, on=on))


def readopt(
    loan: GoLoan,
    *,
    stored: Mapping[str, Payment],
    posted: Sequence[JournalEntry],
    on: dt.date,
) -> Adoption | None:
    """What to store for an adopted `loan` the Go service changed since (None: unchanged).

    While both services run (the cutover, docs/migration.md), the Go service keeps
    charging, fee-ing and defaulting the loans it adopted out: it writes applications that
    name payments this library has no record of, and balances its books never saw, and
    the library then refuses the loan. Re-adoption writes what is missing, as adoption
    did: a payment for each payment id the installments name that `stored` (the payments
    already kept) lacks, and one more ``adopted`` entry that moves the books from what
    `posted` (every entry of the loan so far, adoptions only) holds to what adopting the
    loan now would open with, account by account. Its id is the first adoption's with
    the count of adoptions so far (``"<loan id>:adopted:2"``).

    Raises:
        InvariantViolation: naming the first disagreement `problems` finds; a payment kept
            that the installments now apply otherwise (or no longer apply: the Go service
            reversed it), which only a person can reconcile; or an entry in `posted` that
            is not an adoption (this library served the loan since: its books hold more
            than adoption knows).
    """
    adoption = adopt(loan, on=on)
    for payment in adoption.payments:
        kept = stored.get(payment.payment_id)
        if kept is not None and (kept.amount, kept.applications) != (
            payment.amount,
            payment.applications,
        ):
            raise _not_readoptable(loan, f"payment {payment.payment_id} changed since it was kept")
    rebuilt = {payment.payment_id for payment in adoption.payments}
    gone = sorted(set(stored) - rebuilt)
    if gone:
        raise _not_readoptable(loan, f"payment {gone[0]} is no longer applied by the Go service")
    served = [entry.entry_id for entry in posted if entry.kind != EntryKind.ADOPTED]
    if served:
        raise _not_readoptable(loan, f"this library booked {served[0]} on it since its adoption")
    new = tuple(p for p in adoption.payments if p.payment_id not in stored)
    accounts = {
        posting.account for entry in (adoption.entry, *posted) for posting in entry.postings
    }
    moves = {
        account: adoption.entry.net(account) - sum(entry.net(account) for entry in posted)
        for account in sorted(accounts)
    }
    if not any(moves.values()):
        if new:  # the books hold what the payment paid: its item went missing since
            raise _not_readoptable(loan, f"payment {new[0].payment_id} is booked but not kept")
        return None
    entry = JournalEntry.build(
        entry_id=f"{adoption_entry_id(loan.loan_id)}:{len(posted) + 1}",
        kind=EntryKind.ADOPTED,
        effective_date=on,
        reference=loan.loan_id,
        debits={account: move for account, move in moves.items() if move > 0},
        credits={account: -move for account, move in moves.items() if move < 0},
        memo=f"adopted again from the Go service with {len(new)} new payments",
    )
    return Adoption(payments=new, entry=entry)


def _not_readoptable(loan: GoLoan, why: str) -> InvariantViolation:
    return InvariantViolation(
        f"loan {loan.loan_id} changed since its adoption and cannot be adopted again: {why}",
        entity="loan",
        entity_id=loan.loan_id,
        invariant="readoptable",
    )
