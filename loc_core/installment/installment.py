"""Installments and the payment applications recorded on them.

An installment's total is made of three parts, each kept in its own ledger bucket: a
principal part, an origination-fee part and, once overdue, a late fee. A payment pays
inside one installment late fee first, then origination fee, then principal
(`WATERFALL`); each `PaymentApplication` remembers its split, so a return can take back
exactly what it paid.

Installments belong to their `Loan`; only the loan's commands change them.
"""

from __future__ import annotations

import datetime as dt
import operator
from typing import Protocol

import attrs

from loc_core import audit
from loc_core.audit import render
from loc_core.errors import InvariantViolation
from loc_core.events import AuditValue
from loc_core.installment.vocabulary import InstallmentStatus, Process
from loc_core.ledger import Bucket

__all__ = ["WATERFALL", "Installment", "LateFeeWaiver", "PaymentApplication"]

_READ = (
    "status",
    "total_amount",
    "outstanding_balance",
    "principal",
    "origination_fee",
    "late_fee",
    "due_date",
    "overdue_on",
    "process",
    "update_reason",
    "collection_attempts",
    "last_collection_attempt_on",
    "late_fee_waived",
)
_read_audited = operator.attrgetter(*_READ)
_AUDITED = (*_READ, "applications")
"""An installment's audited fields, in the order they are stored."""

WATERFALL = (Bucket.LATE_FEE, Bucket.ORIGINATION_FEE, Bucket.PRINCIPAL)
"""The order a payment pays the parts of one installment."""
_LATE_FEE, _ORIGINATION_FEE, _PRINCIPAL = WATERFALL
"""The buckets `_part` tests, bound once (the enum hook, below)."""

# Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md).
_CANCELLED, _COMPLETED, _OVERDUE = (
    InstallmentStatus.CANCELLED,
    InstallmentStatus.COMPLETED,
    InstallmentStatus.OVERDUE,
)


class _Parts(Protocol):
    """An installment, or what a payment applied to one, split by bucket."""

    @property
    def late_fee(self) -> int: ...
    @property
    def origination_fee(self) -> int: ...
    @property
    def principal(self) -> int: ...


def _part(parts: _Parts, bucket: Bucket) -> int:
    """The amount `parts` holds in `bucket` (0 for a bucket an installment never has)."""
    if bucket is _LATE_FEE:
        return parts.late_fee
    if bucket is _ORIGINATION_FEE:
        return parts.origination_fee
    if bucket is _PRINCIPAL:
        return parts.principal
    return 0


@attrs.frozen(kw_only=True)
class PaymentApplication:
    """Part of a payment applied to one installment (an entry of ``loc_applications``)."""

    payment_id: str
    installment_id: str
    amount: int
    payment_date: dt.date
    late_fee: int = 0
    origination_fee: int = 0
    principal: int = 0

    def __attrs_post_init__(self) -> None:
        parts = (self.late_fee, self.origination_fee, self.principal)
        if any(type(part) is not int or part < 0 for part in parts) or type(self.amount) is not int:
            raise InvariantViolation(
                f"application parts must be non-negative cents: {self!r}",
                entity="payment",
                entity_id=self.payment_id,
                invariant="application_parts",
            )
        if self.amount <= 0 or self.amount != sum(parts):
            raise InvariantViolation(
                f"application of {self.payment_id} to {self.installment_id}: amount "
                f"{self.amount} must be positive and equal its parts {parts}",
                entity="payment",
                entity_id=self.payment_id,
                invariant="application_parts",
            )

    def part(self, bucket: Bucket) -> int:
        """What this application paid into `bucket`."""
        return _part(self, bucket)


@attrs.frozen(kw_only=True)
class LateFeeWaiver:
    """An operator's waiver of an installment's late fee (``loc_late_fee_waiver``).

    A recorded fact, effective on the day the fee was assessed (`effective_on`, the
    installment's overdue day): the daily job and every correction replay read it and
    charge the installment no late fee, so a later correction never charges it again.
    """

    amount: int
    """The cents waived: the fee the installment carried when it was waived."""
    effective_on: dt.date
    """The day the fee was assessed (the installment's `overdue_on`): the waiver's date."""
    waived_on: dt.date
    """The business date it was booked (its ``:adjust`` entry's date)."""
    reason: str
    """Why, as the operator gave it (lender error, hardship, goodwill ...)."""
    idempotency_key: str
    """The operator's key: the same request again changes nothing."""


@attrs.define(kw_only=True)
class Installment:
    """One scheduled repayment of a loan."""

    user_id: str
    loan_id: str
    installment_id: str
    number: int
    """1 for the first installment due, and so on."""
    due_date: dt.date
    principal: int
    """The principal part of `total_amount`."""
    origination_fee: int
    """The origination-fee part of `total_amount` (the fee is spread front-loaded)."""
    late_fee: int = 0
    """The late fee assessed when the installment became overdue (0 if none, or capped)."""
    total_amount: int
    """principal + origination_fee + late_fee."""
    outstanding_balance: int
    """total_amount - sum(applications.amount), checked by `verify`. A CANCELLED
    installment (its loan's disbursement came back) has every part, total and
    outstanding 0 and no applications."""
    status: InstallmentStatus = InstallmentStatus.SCHEDULED
    process: Process = Process.CREATION
    update_reason: str = ""
    applications: list[PaymentApplication] = attrs.field(factory=list)
    overdue_on: dt.date | None = None
    """The day it became overdue (due date + grace days); None while it never was."""
    collection_attempts: int = 0
    """Autopay charges tried on this installment, accepted or declined."""
    last_collection_attempt_on: dt.date | None = None
    """The business day of the latest autopay attempt; None while there was none."""
    late_fee_waiver: LateFeeWaiver | None = None
    """An operator's waiver of the late fee (then `late_fee` is 0, in every replay too);
    None while none was waived."""
    late_fee_entries: int = 0
    """How many late-fee entries the daily job posted for this installment. A correction
    may take a fee back (its replay pays the installment in time) and a return reversed
    as of today make it late again: the next run's fee is then the installment's second
    entry, ``<installment>:late_fee:2`` (`bookkeeping.entry_id`). Kept by corrections:
    their replays post nothing of their own."""
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = 0

    def part(self, bucket: Bucket) -> int:
        """The amount of `bucket` this installment carries in its total."""
        return _part(self, bucket)

    def unpaid(self, bucket: Bucket) -> int:
        """What is still owed in `bucket`: its part minus what applications paid into it."""
        return self.part(bucket) - sum(app.part(bucket) for app in self.applications)

    def unpaid_parts(self) -> tuple[int, int, int]:
        """What is still owed per bucket, in `WATERFALL` order, in one pass."""
        late_fee, origination_fee, principal = self.late_fee, self.origination_fee, self.principal
        for app in self.applications:
            late_fee -= app.late_fee
            origination_fee -= app.origination_fee
            principal -= app.principal
        return late_fee, origination_fee, principal

    @property
    def late_fee_waived(self) -> int | None:
        """The cents of late fee an operator waived (audited), None while none was."""
        return None if self.late_fee_waiver is None else self.late_fee_waiver.amount

    @property
    def is_paid(self) -> bool:
        """Whether nothing is owed on this installment."""
        return self.outstanding_balance == 0

    def problems(self) -> list[str]:
        """Every way this installment contradicts itself (empty when consistent)."""
        return [] if self._consistent() else self._problems_found()

    def _problems_found(self) -> list[str]:
        """`problems` the long way: every condition checked, each failure described."""
        found: list[str] = []
        where = f"installment {self.installment_id}"
        if self.total_amount != self.principal + self.origination_fee + self.late_fee:
            found.append(f"{where}: total_amount != principal + origination_fee + late_fee")
        applied = sum(app.amount for app in self.applications)
        if self.outstanding_balance != self.total_amount - applied:
            found.append(
                f"{where}: outstanding_balance {self.outstanding_balance} != total_amount "
                f"{self.total_amount} - applications {applied}"
            )
        found.extend(
            f"{where}: {bucket.value} is negative or overpaid"
            for bucket, part, unpaid in zip(
                WATERFALL,
                (self.late_fee, self.origination_fee, self.principal),
                self.unpaid_parts(),
                strict=True,
            )
            if part < 0 or unpaid < 0
        )
        if any(app.installment_id != self.installment_id for app in self.applications):
            found.append(f"{where}: holds an application of another installment")
        payments = [app.payment_id for app in self.applications]
        if len(set(payments)) != len(payments):
            found.append(f"{where}: a payment is applied twice")
        if not self._status_fits(self.total_amount, self.outstanding_balance, applied):
            found.append(
                f"{where}: status {self.status.value} with outstanding "
                f"{self.outstanding_balance} of {self.total_amount}"
            )
        if self.status is InstallmentStatus.OVERDUE and self.overdue_on is None:
            found.append(f"{where}: OVERDUE without the day it became overdue")
        found.extend(self._late_fee_problems(where))
        attempts = self.collection_attempts
        if type(attempts) is not int or attempts < 0:
            found.append(f"{where}: collection_attempts must be a count, got {attempts!r}")
        elif (attempts == 0) != (self.last_collection_attempt_on is None):
            found.append(
                f"{where}: {attempts} collection attempts, last on "
                f"{render(self.last_collection_attempt_on)}"
            )
        return found

    def _late_fee_problems(self, where: str) -> list[str]:
        """A late fee only once overdue, and none once an operator waived it."""
        if not self.late_fee:
            return []
        found = []
        if self.overdue_on is None:
            found.append(f"{where}: a late fee without having been overdue")
        if self.late_fee_waiver is not None:
            found.append(f"{where}: a late fee of {self.late_fee} cents that was waived")
        return found

    def _consistent(self) -> bool:  # noqa: C901, PLR0911 - one pass, failing fast: a return per test
        """Whether `problems` finds nothing: the same conditions, in one pass, no messages.

        Written for speed, as every verification of a loan runs it for each installment:
        sign tests rather than `min`, no set of payments for an installment with no
        application, and `_status_fits` written out.
        """
        late_fee, origination_fee, principal = self.late_fee, self.origination_fee, self.principal
        total, outstanding = self.total_amount, self.outstanding_balance
        if (
            total != principal + origination_fee + late_fee
            or late_fee < 0
            or origination_fee < 0
            or principal < 0
        ):
            return False
        applied = 0
        applications = self.applications
        if applications:
            installment_id = self.installment_id
            payments: set[str] = set()
            for app in applications:
                if app.installment_id != installment_id or app.payment_id in payments:
                    return False
                payments.add(app.payment_id)
                applied += app.amount
                late_fee -= app.late_fee
                origination_fee -= app.origination_fee
                principal -= app.principal
            if late_fee < 0 or origination_fee < 0 or principal < 0:
                return False
        if outstanding != total - applied:
            return False
        status = self.status
        if status is _CANCELLED:
            if total != 0 or applied != 0:
                return False
        elif (status is _COMPLETED) != (outstanding == 0):
            return False
        if self.overdue_on is None and (status is _OVERDUE or self.late_fee):
            return False
        if self.late_fee and self.late_fee_waiver is not None:
            return False
        attempts = self.collection_attempts
        return (
            type(attempts) is int
            and attempts >= 0
            and (attempts == 0) == (self.last_collection_attempt_on is None)
        )

    def _status_fits(self, total: int, outstanding: int, applied: int) -> bool:
        """COMPLETED exactly when nothing is owed; CANCELLED only with nothing at all.

        A CANCELLED installment (its loan's disbursement came back) has a total of 0 and
        no applications, so it owes nothing either.
        """
        if self.status is _CANCELLED:
            return total == 0 and applied == 0
        return (self.status is _COMPLETED) == (outstanding == 0)

    def verify(self) -> None:
        """Raise `InvariantViolation` if the installment contradicts itself."""
        found = self.problems()
        if found:
            raise InvariantViolation(
                found[0],
                about=self,
                invariant="installment_consistent",
            )

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("installment", self.installment_id)

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered (applications as ``payment=amount`` pairs)."""
        return audit.rendered(*self.audit_fields())

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values (applications rendered: the list changes)."""
        applications = ",".join(f"{app.payment_id}={app.amount}" for app in self.applications)
        return _AUDITED, (*_read_audited(self), applications)
