"""What a simulation run counts: the summary figures, the daily series and the report.

Money figures come from the journal (the ledger is the source of truth), split by product
through the loan or line each entry references; counts of commands and settlement
outcomes come from what the run did. Everything but `timing` is a pure function of the
scenario and its seed.
"""

from __future__ import annotations

import collections
import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

from loc_core.creditline import LineStatus
from loc_core.events import EventType
from loc_core.installment import InstallmentStatus
from loc_core.ledger import (
    CLEARING,
    CREDIT_LOSS,
    FUNDING,
    Bucket,
    JournalEntry,
    Side,
    income,
    receivable,
)
from loc_core.payments import SettlementOutcome
from loc_core.ports import UnitOfWork

if TYPE_CHECKING:
    from loc_core.services.commands import RecoveryReport
    from loc_entrypoints.simulation.scenario import Scenario
    from loc_entrypoints.simulation.world import World

__all__ = ["PRODUCTS", "Tally"]

PRODUCTS = ("installment", "creditline")
_BUCKETS = ((1, 30), (31, 60), (61, 90), (91, 10**6))
_BUCKET_NAMES = ("1-30", "31-60", "61-90", "90+")
_WEEK = 7


_MONEY_FIGURES = (
    "collected",
    "credit_losses",
    "defaults",
    "disbursed",
    "disbursements",
    "ending_receivables",
    "interest",
    "interest_adjustments",
    "late_fee_amount",
    "late_fees",
    "late_fees_from_corrections",
    "payments_applied",
    "principal_originated",
)
"""Figures read from the journal: every one is reported, zero or not."""
_COUNTS = (
    "applications",
    "approvals",
    "chargebacks",
    "credits_returned",
    "offers_abandoned",
    "originations",
    "returns",
)
"""Figures counted during the run: every one is reported, zero or not."""


_RECOVERY_RUNS = ("examined", "booked", "abandoned", "finished", "busy", "failed")
"""`RecoveryReport` counters the report sums over every run of the recovery job."""
_FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def _zero() -> dict[str, int]:
    return collections.defaultdict(int)


@attrs.define
class Tally:
    """Counters kept during a run, and the report made from them."""

    scenario: Scenario
    counts: dict[str, dict[str, int]] = attrs.field(
        factory=lambda: {product: _zero() for product in PRODUCTS}
    )
    refusals: collections.Counter[str] = attrs.field(factory=collections.Counter)
    hardships: int = 0
    warnings: int = 0
    invariant_violations: int = 0
    daily: list[dict[str, Any]] = attrs.field(factory=list)
    summary: dict[str, dict[str, int]] = attrs.field(factory=dict)
    events: dict[str, int] = attrs.field(factory=dict)
    """Notifications sent to borrowers, by event name."""
    crashes: collections.Counter[str] = attrs.field(factory=collections.Counter)
    """Process deaths injected after a rail's answer, by the command that died."""
    recovery: collections.Counter[str] = attrs.field(factory=collections.Counter)
    """What the recovery job's runs did, summed (`RecoveryReport`'s counters)."""
    resumed_by_retry: int = 0
    """Crashed movements a retry of their command booked before the recovery job could."""
    open_at_end: int = 0
    """Intents still open after the run's last recovery (PENDING, or events unpublished)."""
    _seen_entries: int = 0
    _receivables: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(PRODUCTS, 0))
    _defaults: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(PRODUCTS, 0))
    _delinquency: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(_BUCKET_NAMES, 0))

    # --- during the run -----------------------------------------------------------------

    def applied(self, product: str, *, approved: bool) -> None:
        """An application was decided."""
        self.counts[product]["applications"] += 1
        self.counts[product]["approvals"] += approved

    def expired(self, product: str, outcome: str) -> None:
        """An offer's TTL ran out."""
        self.counts[product][f"offers_{outcome.lower()}"] += 1

    def opened_loan(self) -> None:
        """A loan was disbursed."""
        self.counts["installment"]["originations"] += 1

    def opened_line(self) -> None:
        """A line was opened."""
        self.counts["creditline"]["originations"] += 1

    def settled(
        self, product: str, outcome: SettlementOutcome, handling: str, *, credit: bool = False
    ) -> None:
        """A settlement event was delivered and handled (`credit`: money sent, not taken)."""
        if handling in {"duplicate", "disbursement", "draw"}:
            return
        if credit:
            self.counts[product]["credits_returned"] += handling == "reversed"
        elif outcome is SettlementOutcome.RETURNED:
            self.counts[product]["returns"] += 1
        elif outcome is SettlementOutcome.CHARGED_BACK:
            self.counts[product]["chargebacks"] += 1

    def refused(self, command: str, error: Exception) -> None:
        """A command was refused with a domain error (counted, not a failure of the run)."""
        self.refusals[f"{command}: {type(error).__name__}"] += 1

    def crashed(self, command: str) -> None:
        """The process sending `command` died after a rail's answer (left as it died)."""
        self.crashes[command] += 1

    def recovered(self, report: RecoveryReport) -> None:
        """Add one run of the recovery job to the totals."""
        self.recovery.update({name: getattr(report, name) for name in _RECOVERY_RUNS})

    def close_day(self, today: dt.date, world: World, products: dict[str, tuple[str, str]]) -> None:
        """Fold the day's journal entries into the daily series."""
        entries = world.database.ledger.entries(self._seen_entries)
        self._seen_entries += len(entries)
        collected = dict.fromkeys(PRODUCTS, 0)
        for entry in entries:
            owner = products.get(entry.reference)
            if owner is None:
                continue
            product = owner[0]
            self._receivables[product] += _receivable_change(entry)
            if entry.kind in {"payment", "unapply"}:
                collected[product] += entry.net(CLEARING)
            elif entry.kind == "charge_off":
                self._defaults[product] += 1
        if (today - self.scenario.start).days % _WEEK == 0 or today == self.last_day:
            self._delinquency = _delinquency(today, world, products)
        self.daily.append(
            {
                "date": today.isoformat(),
                "receivables": dict(self._receivables),
                "collected": collected,
                "defaults": dict(self._defaults),
                "delinquent": dict(self._delinquency),
            }
        )

    @property
    def last_day(self) -> dt.date:
        """The scenario's last simulated day."""
        return self.scenario.start + dt.timedelta(days=self.scenario.days - 1)

    # --- at the end ---------------------------------------------------------------------

    def finish(self, world: World, products: dict[str, tuple[str, str]]) -> None:
        """Compute the summary figures from the whole journal; count intents left open."""
        with world.bus.get(UnitOfWork) as uow:
            self.open_at_end = len(uow.intents.open_before(_FAR_FUTURE))
        self.resumed_by_retry = len(world.crashes.resumed)
        money = {product: dict.fromkeys(_MONEY_FIGURES, 0) for product in PRODUCTS}
        for entry in world.database.ledger:
            owner = products.get(entry.reference)
            if owner is None:
                continue
            figures = money[owner[0]]
            figures["ending_receivables"] += _receivable_change(entry)
            figures["credit_losses"] += entry.net(CREDIT_LOSS)
            if entry.kind in {"disbursement", "disbursement_returned"}:  # net of what came back
                figures["disbursed"] += -entry.net(FUNDING)
                figures["principal_originated"] += entry.net(
                    receivable(entry.reference, Bucket.PRINCIPAL)
                )
                figures["disbursements"] += entry.kind == "disbursement"
            elif entry.kind in {"payment", "unapply"}:
                figures["collected"] += entry.net(CLEARING)
                figures["payments_applied"] += entry.kind == "payment"
            elif entry.kind == "late_fee":
                figures["late_fees"] += 1
                figures["late_fee_amount"] += _fee_income(entry)
            elif entry.kind == "interest":
                figures["interest"] += -entry.net(income(Bucket.INTEREST))
            elif entry.kind == "charge_off":
                figures["defaults"] += 1
            elif entry.kind == "adjustment":  # what corrections changed, net
                figures["interest_adjustments"] += -entry.net(income(Bucket.INTEREST))
                figures["late_fees_from_corrections"] += _fee_income(entry)
        money["installment"]["payoffs"] = world.notifier.sent[EventType.LOAN_CLOSED]
        self.summary = {
            product: dict(
                sorted(
                    {**dict.fromkeys(_COUNTS, 0), **self.counts[product], **money[product]}.items()
                )
            )
            for product in PRODUCTS
        }
        self.events = {
            kind.value: count
            for kind, count in sorted(world.notifier.sent.items(), key=lambda item: item[0].value)
        }

    def report(self, *, digest: str, journal_entries: int, audit_records: int) -> dict[str, Any]:
        """The machine-readable report, without `timing` (the caller adds it)."""
        scenario = self.scenario
        return {
            "scenario": scenario.to_dict(),
            "seed": scenario.seed,
            "borrowers": scenario.borrowers,
            "days": scenario.days,
            "borrower_days": scenario.borrower_days,
            "summary": self.summary,
            "notifications": self.events,
            "refused_commands": dict(sorted(self.refusals.items())),
            "hardships": self.hardships,
            "warnings": self.warnings,
            "invariant_violations": self.invariant_violations,
            "journal_entries": journal_entries,
            "audit_records": audit_records,
            "ledger_digest": digest,
            "recovery": {
                "crashes_injected": self.crashes.total(),
                "crashes_by_command": dict(sorted(self.crashes.items())),
                "resumed_by_retry": self.resumed_by_retry,
                **{name: self.recovery[name] for name in _RECOVERY_RUNS},
                "still_open": self.open_at_end,
            },
            "daily": self.daily,
        }


def _fee_income(entry: JournalEntry) -> int:
    """Late-fee income the entry recognises (negative: fees reversed)."""
    return -entry.net(income(Bucket.LATE_FEE)) - entry.net(income(Bucket.FEE))


def _receivable_change(entry: JournalEntry) -> int:
    return sum(
        p.amount if p.side is Side.DEBIT else -p.amount
        for p in entry.postings
        if p.account.startswith("receivable:")
    )


def _delinquency(
    today: dt.date, world: World, products: dict[str, tuple[str, str]]
) -> dict[str, int]:
    """Loans and lines by days past due of their oldest unpaid amount."""
    oldest: dict[str, dt.date] = {}
    database = world.database
    yesterday = today - dt.timedelta(days=1)
    for status, through in (
        (InstallmentStatus.OVERDUE, None),
        (InstallmentStatus.SCHEDULED, yesterday),
    ):
        for ref in database.installments(status, through):
            if ref.loan_id not in oldest or ref.due_date < oldest[ref.loan_id]:
                oldest[ref.loan_id] = ref.due_date
    late_days = [(today - due).days for due in oldest.values()]
    for line_id, (product, user_id) in products.items():
        if product == "creditline":
            line = database.peek(("line", user_id, line_id))
            if (
                line is not None
                and line.past_due_since is not None
                and line.status in {LineStatus.ACTIVE, LineStatus.SUSPENDED}
            ):
                late_days.append((today - line.past_due_since).days + 1)
    return {
        name: sum(low <= days <= high for days in late_days)
        for name, (low, high) in zip(_BUCKET_NAMES, _BUCKETS, strict=True)
    }
