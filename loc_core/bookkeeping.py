"""The journal entries both products post, and the one place their ids are made.

An entry's id is derived from what caused it (``"<payment id>:apply"``), so the same
movement can never post twice. `entry_id` holds that convention for both products. The
products grew different suffixes for the same movement (a returned payment is
``:unapply`` on a loan and ``:reverse`` on a line); entries already posted are never
re-keyed, so those historical suffixes are kept, per product, in `entry_id` alone.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

from loc_core.ledger import (
    BILLING_ERRORS,
    CLEARING,
    CREDIT_LOSS,
    FUNDING,
    Bucket,
    JournalEntry,
    Side,
    allowance,
    income,
    receivable,
    refund_due,
)

__all__ = [
    "LENDER_ACCOUNTS",
    "EntryKind",
    "Movement",
    "Product",
    "StoredBooks",
    "charge_off",
    "entry_id",
    "late_fee",
    "owner_accounts",
    "recovery",
    "reversal",
    "stored_books",
]


class Product(enum.StrEnum):
    """The two products; the values are the stored strings (payment owners, reports)."""

    INSTALLMENT = "installment"
    CREDITLINE = "creditline"


class EntryKind(enum.StrEnum):
    """What an entry records (`JournalEntry.kind`); the values are the stored strings."""

    DISBURSEMENT = "disbursement"
    PAYMENT = "payment"
    UNAPPLY = "unapply"
    """A returned or charged-back payment, undone."""
    LATE_FEE = "late_fee"
    INTEREST = "interest"
    CHARGE_OFF = "charge_off"
    RECOVERY = "recovery"
    REFUND_DUE = "refund_due"
    """Money taken when nothing was owed, owed back to the borrower."""
    REFUND_CANCELLED = "refund_cancelled"
    """A refund due undone because its payment was returned or charged back."""
    ADJUSTMENT = "adjustment"
    """An effective-dated correction: what the replayed history changes in the books."""
    ADOPTED = "adopted"
    """The opening books of a loan the Go service wrote, posted when this library adopts it."""
    DISBURSEMENT_RETURNED = "disbursement_returned"
    """Money sent to a borrower (a loan's disbursement, a line's draw) that the rail
    brought back: the disbursement's entry mirrored, posted the day the return is learned."""
    REFUND_PAID = "refund_paid"
    """A refund due the lender paid out (a check, a processor's credit): the refund-due
    liability settled against funding, posted the day it is recorded."""
    CREDIT_APPLIED = "credit_applied"
    """A line's credit balance applied to a charge it came to owe (a draw, interest, a
    fee, a returned payment's buckets): DR the refund-due liability, CR the receivables,
    as a payment from money the lender already held."""
    BILLING_ERROR_CREDIT = "billing_error_credit"
    """A line's draw found in billing error (Regulation Z 1026.13(e)), credited as of the
    day it was sent: DR `BILLING_ERRORS`, CR the principal receivable. Posted in the
    line's replay; the correction books it today inside ``<dispute id>:adjust``. A late
    fee or interest found in error is simply not charged in the replay (its income
    account falls)."""


class Movement(enum.Enum):
    """What happened to the entry's cause: the part of the id after the cause's id."""

    DISBURSE = "disburse"
    APPLY = "apply"
    REVERSE = "reverse"
    LATE_FEE = "late_fee"
    INTEREST = "interest"
    DEFAULT = "default"
    """The whole balance charged off when a loan or line defaults."""
    CHARGE_OFF = "charge_off"
    """A later rise of a defaulted line's balance, charged off too."""
    RECOVERY = "recovery"
    REFUND_DUE = "refund_due"
    CANCEL_REFUND = "refund_cancelled"
    ADJUST = "adjust"
    """A correction's difference, posted on the day it was booked."""
    ADOPT = "adopted"
    """A loan the Go service wrote, taken over with the balances it stored."""
    RETURN = "returned"
    """A disbursement (a loan's or a draw's) the rail brought back."""
    PAY_REFUND = "refund_paid"
    """A refund due paid out to the borrower, outside the rails."""
    APPLY_CREDIT = "credit_applied"
    """A line's credit balance (refunds due) applied to what the line came to owe."""
    CREDIT_BILLING_ERROR = "billing_error_credit"
    """A line's billing error credited (the cause is the dispute's id)."""


_HISTORICAL_SUFFIX = {(Product.INSTALLMENT, Movement.REVERSE): "unapply"}
"""Suffixes a product already posted under another name; stored ids are never re-keyed."""


def entry_id(cause: str, movement: Movement, *, product: Product, occurrence: int = 1) -> str:
    """The id of the entry `movement` of `cause` posts (``"<cause>:<suffix>"``).

    A movement a cause can post more than once (a loan's late fee or default that a
    correction took back and a later daily job charges again) names its `occurrence`
    after the first: ``"<cause>:<suffix>:2"``, and so on. The first keeps the plain id.
    """
    suffix = _HISTORICAL_SUFFIX.get((product, movement), movement.value)
    return f"{cause}:{suffix}" if occurrence == 1 else f"{cause}:{suffix}:{occurrence}"


def late_fee(
    *,
    product: Product,
    cause: str,
    reference: str,
    bucket: Bucket,
    amount: int,
    on: dt.date,
    memo: str,
    occurrence: int = 1,
) -> JournalEntry:
    """DR the borrower's `bucket` receivable, CR its income (`occurrence` as `entry_id`'s)."""
    return JournalEntry.build(
        entry_id=entry_id(cause, Movement.LATE_FEE, product=product, occurrence=occurrence),
        kind=EntryKind.LATE_FEE,
        effective_date=on,
        reference=reference,
        debits={receivable(reference, bucket): amount},
        credits={income(bucket): amount},
        memo=memo,
    )


def charge_off(
    *,
    product: Product,
    cause: str,
    reference: str,
    amount: int,
    on: dt.date,
    movement: Movement = Movement.DEFAULT,
    memo: str = "",
    occurrence: int = 1,
) -> JournalEntry:
    """Reserve what is owed: DR CREDIT_LOSS, CR the loan's or line's allowance.

    `occurrence` as `entry_id`'s.
    """
    return JournalEntry.build(
        entry_id=entry_id(cause, movement, product=product, occurrence=occurrence),
        kind=EntryKind.CHARGE_OFF,
        effective_date=on,
        reference=reference,
        debits={CREDIT_LOSS: amount},
        credits={allowance(reference): amount},
        memo=memo,
    )


def recovery(
    *, product: Product, cause: str, reference: str, amount: int, on: dt.date
) -> JournalEntry:
    """Release the allowance a payment on a charged-off balance recovered."""
    return JournalEntry.build(
        entry_id=entry_id(cause, Movement.RECOVERY, product=product),
        kind=EntryKind.RECOVERY,
        effective_date=on,
        reference=reference,
        debits={allowance(reference): amount},
        credits={CREDIT_LOSS: amount},
    )


def reversal(original: JournalEntry, *, product: Product, cause: str, on: dt.date) -> JournalEntry:
    """The entry undoing `original`, the payment `cause` that was returned or charged back."""
    return original.reversal(
        entry_id=entry_id(cause, Movement.REVERSE, product=product),
        kind=EntryKind.UNAPPLY,
        effective_date=on,
    )


# --- reconciliation: the books of one loan or line, read as they are stored ---------

LENDER_ACCOUNTS = frozenset(
    {FUNDING, CLEARING, CREDIT_LOSS, BILLING_ERRORS, *(income(bucket) for bucket in Bucket)}
)
"""The lender's side of every entry: the only accounts a loan's or line's entries share."""


def owner_accounts(owner: str) -> frozenset[str]:
    """The accounts that belong to the loan or line `owner` alone."""
    return frozenset(
        {allowance(owner), refund_due(owner), *(receivable(owner, bucket) for bucket in Bucket)}
    )


@attrs.frozen
class StoredBooks:
    """The entries stored for one loan or line, counted as stored, and what is wrong with them.

    Built for reconciliation, which must report a broken journal, never refuse to read it:
    unlike `Ledger`, an entry stored twice is counted twice (and named), an entry that
    does not balance is counted as it is (and named).
    """

    owner: str
    balances: Mapping[str, int]
    """Debits minus credits per account over every stored entry (zero balances left out)."""
    problems: tuple[str, ...]
    """Each entry stored twice, not balanced, filed under another loan or line, or posting
    to an account of neither this loan or line nor the lender."""

    def balance(self, account: str) -> int:
        """Debits minus credits of `account` over the stored entries."""
        return self.balances.get(account, 0)

    def trial_balance(self) -> int:
        """The sum of every balance: zero when every stored entry balances."""
        return sum(self.balances.values())

    def differences(
        self, expected: Mapping[str, int], *, unchecked: Iterable[str] = ()
    ) -> dict[str, tuple[int, int]]:
        """``account -> (expected, booked)`` for each account whose balance is not `expected`.

        Every account of the owner's and the lender's is compared; one `expected` leaves
        out must be 0. `unchecked` accounts are left out (the trial balance still pins
        their sum).
        """
        skipped = set(unchecked)
        accounts = sorted((owner_accounts(self.owner) | LENDER_ACCOUNTS) - skipped)
        return {
            account: (expected.get(account, 0), self.balance(account))
            for account in accounts
            if expected.get(account, 0) != self.balance(account)
        }


def stored_books(owner: str, entries: Iterable[JournalEntry]) -> StoredBooks:
    """Read the entries stored for `owner` (`JournalRepository.entries_for`) as an auditor."""
    known = owner_accounts(owner) | LENDER_ACCOUNTS
    balances: dict[str, int] = {}
    problems: list[str] = []
    stored: Counter[str] = Counter()
    for entry in entries:
        stored[entry.entry_id] += 1
        if entry.reference != owner:
            problems.append(
                f"entry {entry.entry_id} is stored with {owner} but belongs to {entry.reference}"
            )
        debited = credited = 0
        for posting in entry.postings:
            if posting.side is Side.DEBIT:
                debited += posting.amount
                delta = posting.amount
            else:
                credited += posting.amount
                delta = -posting.amount
            balances[posting.account] = balances.get(posting.account, 0) + delta
            if posting.account not in known:
                problems.append(
                    f"entry {entry.entry_id} posts {delta} to {posting.account}, "
                    f"an account of neither {owner} nor the lender"
                )
        if debited != credited:
            problems.append(
                f"entry {entry.entry_id} does not balance: debits {debited} != credits {credited}"
            )
    problems.extend(
        f"entry {entry_id} is stored {times} times"
        for entry_id, times in stored.items()
        if times > 1
    )
    return StoredBooks(
        owner, {account: amount for account, amount in balances.items() if amount}, tuple(problems)
    )
