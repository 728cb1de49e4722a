"""A double-entry journal under every money movement.

Each movement of money (a disbursement, a payment applied to a bucket, a fee, a reversal,
a charge-off) posts one `JournalEntry` whose debits equal its credits. Balances can then
be proven from the journal alone rather than trusted from fields on the aggregates.

Sign convention: `Ledger.balance` is debits minus credits, so asset accounts such as a
borrower's receivables are positive and income accounts are negative.

Accounts are plain strings, ``kind:owner:bucket``. Receivables belong to one loan or line
(`receivable`); the shared accounts below are the lender's side of every entry. Both
products post into the same ledger; `Bucket` names the parts a balance is made of.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable, Iterator, Mapping

import attrs

from loc_core.errors import LedgerError

__all__ = [
    "BILLING_ERRORS",
    "CLEARING",
    "CREDIT_LOSS",
    "FUNDING",
    "INCOME",
    "Bucket",
    "JournalEntry",
    "Ledger",
    "Posting",
    "Side",
    "allowance",
    "income",
    "receivable",
    "refund_due",
]


class Side(enum.Enum):
    """Which side of the journal a posting is on."""

    DEBIT = "debit"
    CREDIT = "credit"


# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_DEBIT, _CREDIT = Side.DEBIT, Side.CREDIT


class Bucket(enum.Enum):
    """A part of what a borrower owes, kept in its own receivable account."""

    PRINCIPAL = "principal"
    ORIGINATION_FEE = "origination_fee"
    LATE_FEE = "late_fee"
    INTEREST = "interest"
    FEE = "fee"

    # Members key the balances by bucket. `enum.Enum.__hash__` is a Python function
    # (``hash(self._name_)``) that every dict or set lookup calls; a member equals only itself
    # (an Enum has no `__eq__` of its own), so the identity hash, in C, is as correct.
    __hash__ = object.__hash__


FUNDING = "asset:cash:funding"
"""The lender's operating cash: credited when money is sent to a borrower."""
CLEARING = "asset:cash:clearing"
"""Borrower payments submitted to a rail and not yet returned: debited when applied."""
CREDIT_LOSS = "expense:credit_loss"
"""Receivables charged off when a loan or line defaults (recoveries credit it back)."""
BILLING_ERRORS = "expense:billing_errors"
"""Draws credited back to a borrower because they were billing errors (a line's disputed
draw found wrong, Regulation Z 1026.13(e)); interest and fees found in error, or no longer
owed once it is credited, debit their income accounts."""
INCOME = "income"
"""Prefix of the income accounts, one per `Bucket` that earns (fees, interest)."""


def receivable(owner: str, bucket: Bucket) -> str:
    """The account holding what the loan or line `owner` owes in `bucket`."""
    return f"receivable:{owner}:{bucket._value_}"  # `.value` without the property's call


def refund_due(owner: str) -> str:
    """The liability holding what the loan or line `owner` must pay back to its borrower.

    Credited when a rail took more than was owed (a payment on a paid-off loan or line),
    debited back when that payment is returned or charged back; its balance is minus the
    refunds still due.
    """
    return f"liability:refund_due:{owner}"


def allowance(owner: str) -> str:
    """The contra-asset account reserving against `owner`'s receivables once charged off.

    A default debits `CREDIT_LOSS` and credits this account with what is still owed; the
    borrower still owes it, so the receivables stay. A later recovery releases it.
    """
    return f"allowance:{owner}"


def income(bucket: Bucket) -> str:
    """The income account a fee or interest `bucket` is earned into."""
    return f"{INCOME}:{bucket._value_}"  # `.value` without the property's call


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value <= 0:
        raise LedgerError(f"posting {attribute.name} must be positive integer cents, got {value!r}")


@attrs.frozen
class Posting:
    """One line of a journal entry: an amount on one side of one account."""

    account: str
    side: Side
    amount: int = attrs.field(validator=_positive)


def _balanced(_instance: object, _attribute: object, postings: tuple[Posting, ...]) -> None:
    if len(postings) < 2:  # noqa: PLR2004 - double entry needs two sides
        raise LedgerError(f"a journal entry needs at least two postings, got {len(postings)}")
    debits = sum(p.amount for p in postings if p.side is _DEBIT)
    credits = sum(p.amount for p in postings if p.side is _CREDIT)
    if debits != credits:
        raise LedgerError(f"journal entry does not balance: debits {debits} != credits {credits}")


@attrs.frozen
class JournalEntry:
    """A balanced set of postings that records one money movement.

    `entry_id` is derived from what caused the movement (``"<payment id>:apply"``), so a
    movement can be posted only once.
    """

    entry_id: str
    kind: str
    """What moved: ``disbursement``, ``payment``, ``unapply``, ``late_fee``, ..."""
    effective_date: dt.date
    reference: str
    """The loan or line the entry belongs to."""
    postings: tuple[Posting, ...] = attrs.field(validator=_balanced)
    memo: str = ""

    @classmethod
    def build(
        cls,
        *,
        entry_id: str,
        kind: str,
        effective_date: dt.date,
        reference: str,
        debits: Mapping[str, int],
        credits: Mapping[str, int],
        memo: str = "",
    ) -> JournalEntry:
        """Make an entry from account -> amount maps, leaving out zero amounts."""
        postings = tuple(
            Posting(account, side, amount)
            for side, lines in ((_DEBIT, debits), (_CREDIT, credits))
            for account, amount in lines.items()
            if amount != 0
        )
        return cls(
            entry_id=entry_id,
            kind=kind,
            effective_date=effective_date,
            reference=reference,
            postings=postings,
            memo=memo,
        )

    @property
    def amount(self) -> int:
        """The total of the debit side (equal to the credit side)."""
        return sum(p.amount for p in self.postings if p.side is _DEBIT)

    def reversal(self, *, entry_id: str, kind: str, effective_date: dt.date) -> JournalEntry:
        """The entry that undoes this one exactly: every posting on the other side."""
        flipped = tuple(
            Posting(p.account, _CREDIT if p.side is _DEBIT else _DEBIT, p.amount)
            for p in self.postings
        )
        return JournalEntry(
            entry_id=entry_id,
            kind=kind,
            effective_date=effective_date,
            reference=self.reference,
            postings=flipped,
            memo=f"reverses {self.entry_id}",
        )

    def net(self, account: str) -> int:
        """What this entry does to `account`'s balance (debits minus credits)."""
        return sum(
            p.amount if p.side is _DEBIT else -p.amount
            for p in self.postings
            if p.account == account
        )


@attrs.define
class Ledger:
    """An append-only journal with running balances, kept in memory.

    The core uses it to prove balances; adapters persist the entries it holds.
    """

    _entries: list[JournalEntry] = attrs.field(factory=list, alias="entries")
    _balances: dict[str, int] = attrs.field(init=False, factory=dict)
    _ids: set[str] = attrs.field(init=False, factory=set)
    _total: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        entries, self._entries = self._entries, []
        self.post_all(entries)

    def post(self, entry: JournalEntry) -> None:
        """Append `entry` and update balances.

        Raises:
            LedgerError: if an entry with the same id was already posted.
        """
        if entry.entry_id in self._ids:
            raise LedgerError(f"journal entry {entry.entry_id!r} was already posted")
        self._ids.add(entry.entry_id)
        self._entries.append(entry)
        balances = self._balances
        for posting in entry.postings:
            delta = posting.amount if posting.side is _DEBIT else -posting.amount
            balances[posting.account] = balances.get(posting.account, 0) + delta
            self._total += delta

    def post_all(self, entries: Iterable[JournalEntry]) -> None:
        """Post several entries in order."""
        for entry in entries:
            self.post(entry)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._ids

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def balance(self, account: str) -> int:
        """Debits minus credits posted to `account`."""
        return self._balances.get(account, 0)

    def balances(self, prefix: str = "") -> dict[str, int]:
        """Non-zero balances of every account whose name starts with `prefix`."""
        return {
            account: amount
            for account, amount in sorted(self._balances.items())
            if amount != 0 and account.startswith(prefix)
        }

    def trial_balance(self) -> int:
        """The sum of every account's balance: zero when the books balance.

        Kept as a running sum of every posting, so checking it costs nothing.
        """
        return self._total

    def entries(self, start: int = 0) -> list[JournalEntry]:
        """The entries posted from position `start` on, in posting order."""
        return self._entries[start:]

    def digest(self) -> str:
        """A SHA-256 over every entry in posting order: equal ledgers, equal digests."""
        hasher = hashlib.sha256()
        for entry in self._entries:
            hasher.update(
                f"{entry.entry_id}|{entry.kind}|{entry.effective_date.isoformat()}|"
                f"{entry.reference}\n".encode()
            )
            for p in entry.postings:
                hasher.update(f"  {p.account}|{p.side.value}|{p.amount}\n".encode())
        return hasher.hexdigest()
