"""Effective-dated corrections: the rule both products follow, its policy, its entry.

A correction takes effect on the date it belongs to, and the books show it on the date
it was learned:

- a returned or charged-back payment is reversed as of the day it was applied (for
  interest, minimums, fees and delinquency it never paid anything);
- a payment or draw dated in the past (a rail that reports late, a mailed payment, an
  operator's backdated entry with a reason) applies as of its effective date.

The aggregate's money events are replayed from the effective date in effective order
(each product's ``replay``), and the difference between the replayed books and the
posted ones is posted as one adjustment entry dated the day the correction is booked
(`adjustment_entry`). Posted entries and issued statements are never edited. The same
correction delivered twice finds nothing left to adjust and posts nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs

from loc_core.bookkeeping import EntryKind, Movement, Product, entry_id
from loc_core.errors import CorrectionTooOld, InvalidConfiguration, Ref
from loc_core.ledger import JournalEntry, Side

__all__ = [
    "CORRECTION_REACH",
    "CorrectionPolicy",
    "account_balances",
    "adjustment_entry",
]

CORRECTION_REACH = dt.timedelta(days=120)
"""How far back a correction may reach by default *(policy)*: an unauthorized ACH return
comes up to 60 days after settlement, well inside it."""


def _positive_reach(_instance: object, _attribute: object, value: dt.timedelta) -> None:
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise InvalidConfiguration(f"the correction reach must be a positive timedelta: {value!r}")


@attrs.frozen
class CorrectionPolicy:
    """How corrections are allowed to rewrite the past *(policy)*."""

    reach: dt.timedelta = attrs.field(default=CORRECTION_REACH, validator=_positive_reach)
    """Corrections effective further back than this are refused (`CorrectionTooOld`) and
    left to operations."""
    late_fee_when_missed_by_return: bool = True
    """Whether a cycle (or installment) missed only because its payment was returned
    gets a late fee: yes (default), once, as if it had never been paid; no: waived when,
    had every returned payment stood, it would not have been missed."""

    def require_within(self, effective: dt.date, *, today: dt.date, about: Ref) -> None:
        """Refuse a correction effective before `today - reach`.

        Raises:
            CorrectionTooOld: naming the dates and the reach.
        """
        earliest = today - self.reach
        if effective < earliest:
            raise CorrectionTooOld(
                f"a correction effective {effective} reaches further back than "
                f"{self.reach.days} days before {today} (earliest {earliest}): "
                "it needs manual handling",
                about=about,
            )


def account_balances(entries: Iterable[JournalEntry]) -> dict[str, int]:
    """Debits minus credits per account over `entries` (zero balances left out)."""
    balances: dict[str, int] = {}
    for entry in entries:
        for posting in entry.postings:
            delta = posting.amount if posting.side is Side.DEBIT else -posting.amount
            balances[posting.account] = balances.get(posting.account, 0) + delta
    return {account: amount for account, amount in balances.items() if amount}


def adjustment_entry(
    *,
    product: Product,
    cause: str,
    reference: str,
    posted: Mapping[str, int],
    replayed: Mapping[str, int],
    on: dt.date,
    memo: str,
) -> JournalEntry | None:
    """The entry moving the books of `reference` from `posted` to `replayed` balances.

    Dated `on`, the day the correction is booked; its id is ``<cause>:adjust``, so a
    correction posts at most once. None when the books already agree (a repeat).
    """
    accounts = sorted(set(posted) | set(replayed))
    delta = {account: replayed.get(account, 0) - posted.get(account, 0) for account in accounts}
    raised = {account: amount for account, amount in delta.items() if amount > 0}
    lowered = {account: -amount for account, amount in delta.items() if amount < 0}
    if not raised and not lowered:
        return None
    return JournalEntry.build(
        entry_id=entry_id(cause, Movement.ADJUST, product=product),
        kind=EntryKind.ADJUSTMENT,
        effective_date=on,
        reference=reference,
        debits=raised,
        credits=lowered,
        memo=memo,
    )
