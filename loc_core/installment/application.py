"""Loan applications (``LOANAPP#``): an underwriting decision and, if approved, an offer.

An APPROVED application is an offer the borrower can accept until its TTL; accepting it
converts it into a loan, once. An offer that expires unaccepted is saved again as
ABANDONED, without a TTL. A REJECTED application carries its adverse action reasons, and
so does a counteroffer: an offer of less than the amount requested (12 CFR
1002.9(a)(1)(iv)), whose approval records the combined counteroffer and adverse action
notice's ``application_countered`` event.

Like a loan, an application records its audit changes in its own `outbox`. The unit of
work bumps `version` and `updated_at` is set by each decision from the `now` it is given.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Sequence
from decimal import Decimal

import attrs

from loc_core import audit
from loc_core.applications import (
    AdverseAction,
    ApplicationStatus,
    ConsumerReport,
    Counteroffer,
    audited_report,
    countered_event,
    declined_event,
)
from loc_core.audit import ChangeRecorder, render
from loc_core.bookkeeping import Product
from loc_core.errors import (
    ApplicationAlreadyConverted,
    ApplicationExpired,
    ApplicationNotApproved,
    DomainError,
    InvalidTransition,
    InvariantViolation,
    Ref,
)
from loc_core.events import AuditValue, Outbox
from loc_core.installment._checks import require_date, require_id, require_moment, utc_problems
from loc_core.installment.config import InstallmentProduct
from loc_core.installment.fees import OriginationFee
from loc_core.installment.schedule import ScheduledInstallment, build_schedule
from loc_core.installment.vocabulary import FeeType, Process, RepaymentCadence
from loc_core.money import positive_cents

__all__ = ["LoanApplication"]

_TERMS = (
    "status",
    "loan_number",
    "loan_amount",
    "requested_amount",
    "fee_type",
    "origination_fee",
    "fee_percent",
    "total_amount",
    "amount_disbursed",
    "repayment_cadence",
)
_PROGRESS = ("created_at", "updated_at", "expires_at", "loan_id", "agreement_key", "redisclosed_on")
_read_terms = operator.attrgetter(*_TERMS)
_read_progress = operator.attrgetter(*_PROGRESS)
_AUDITED = (*_TERMS, "proposed_schedule", "adverse_actions", "consumer_report", *_PROGRESS)
"""An application's audited fields, in the order they are stored."""

_LOAN_NUMBER = re.compile(r"[A-Z]+-[0-9]+")
_UNDERWRITING = Process.UNDERWRITING
"""Audit process of an approval or rejection."""
_EXPIRATION = Process.EXPIRATION
"""Audit process of an offer saved again as ABANDONED."""
_CONVERSION = Process.CREATION
"""Audit process of an offer converted into a loan (the loan's CREATION)."""


@attrs.define(kw_only=True)
class LoanApplication:
    """A borrower's application for an installment loan and its outcome."""

    user_id: str
    application_id: str
    status: ApplicationStatus
    loan_number: str | None
    """Pre-assigned (``FM-000001``) when approved, from an atomic counter; None if rejected."""
    loan_amount: int
    """Approved principal in cents (0 when rejected)."""
    requested_amount: int | None = None
    """The principal the applicant asked for, in cents; None when unknown (an item written
    before applications kept it, the Go service's). An APPROVED offer below it is a
    counteroffer; an unknown one is never taken for one."""
    fee_type: FeeType | None
    origination_fee: int
    fee_percent: Decimal | None
    """Percent of the loan amount when the fee type is ``percentage``."""
    total_amount: int
    """What the borrower repays: loan amount + origination fee."""
    amount_disbursed: int
    """What the borrower receives: total amount - origination fee."""
    repayment_cadence: RepaymentCadence
    proposed_schedule: tuple[ScheduledInstallment, ...]
    """The disclosed schedule: as if disbursed on `disclosed_on`; rebuilt at disbursement."""
    adverse_actions: tuple[AdverseAction, ...]
    consumer_report: ConsumerReport | None = None
    """The consumer report a rejection's or a counteroffer's decision used (FCRA 615(a)),
    kept so its adverse action notice is rendered from the application as stored; None
    when none was used."""
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime | None
    """When the offer lapses (the DynamoDB ``ttl``); None unless APPROVED."""
    loan_id: str | None = None
    """The loan the offer became; set once."""
    agreement_key: str | None = None
    """Where the rendered agreement is stored (``loc_loan_agreement_key``); None until it is."""
    redisclosed_on: dt.date | None = None
    """The day the offer was last disclosed again (`disclose_again`) because its schedule
    moved with the disbursement date; None while the approval's disclosure stands."""
    version: int = 0
    outbox: Outbox = attrs.field(factory=Outbox)

    def __attrs_post_init__(self) -> None:
        self.verify()

    # --- decisions --------------------------------------------------------------------

    @classmethod
    def approve(
        cls,
        *,
        product: InstallmentProduct,
        user_id: str,
        application_id: str,
        loan_number: str,
        loan_amount: int,
        fee: OriginationFee,
        now: dt.datetime,
        installment_count: int | None = None,
        requested_amount: int | None = None,
        adverse_actions: Sequence[AdverseAction] = (),
        consumer_report: ConsumerReport | None = None,
    ) -> LoanApplication:
        """Make an APPROVED offer with its fee, totals and proposed schedule.

        The proposed schedule assumes disbursement on `now`'s date; `installment_count`
        defaults to the product's. A `loan_amount` below `requested_amount` is a
        counteroffer (12 CFR 1002.9(a)(1)(iv)): it keeps the `adverse_actions` (why the
        amount requested was not granted) and the `consumer_report` the decision used,
        and its outbox holds the ``application_countered`` event (`countered_event`), the
        combined counteroffer and adverse action notice (comment 9(a)(1)-6).

        Raises:
            InvalidAmount: for a loan or requested amount that is not positive integer cents.
            ScheduleError: for a count outside the product bounds.
            InvalidTimestamp: for a `now` that is not aware UTC.
            DomainError: for a blank id, a loan number not like ``FM-000001``, a
                counteroffer without an adverse action (each with a code and a text), or
                adverse actions or a consumer report with an offer of the amount requested.
        """
        require_id(user_id, field="user_id")
        require_id(application_id, field="application_id")
        if not isinstance(loan_number, str) or not _LOAN_NUMBER.fullmatch(loan_number):
            raise DomainError(f"loan_number must look like 'FM-000001', got {loan_number!r}")
        amount = positive_cents(loan_amount, field="loan_amount")
        requested = _requested(requested_amount)
        countered = requested is not None and amount < requested
        if countered:
            actions = _require_actions(adverse_actions, "a counteroffer")
        elif tuple(adverse_actions) or consumer_report is not None:
            raise DomainError(
                "only a counteroffer (less than the amount requested) keeps adverse actions "
                "and a consumer report"
            )
        else:
            actions = ()
        if not isinstance(fee, OriginationFee):
            raise DomainError(f"fee must be an OriginationFee, got {fee!r}")
        now = require_moment(now)
        fee_cents = fee.amount_for(amount, product.fee_rounding)
        total = amount + fee_cents
        count = product.default_installments if installment_count is None else installment_count
        schedule = build_schedule(
            total_amount=total, count=count, disbursed_on=now.date(), product=product
        )
        application = cls(
            user_id=user_id,
            application_id=application_id,
            status=ApplicationStatus.APPROVED,
            loan_number=loan_number,
            loan_amount=amount,
            fee_type=fee.fee_type,
            origination_fee=fee_cents,
            fee_percent=fee.percent,
            total_amount=total,
            amount_disbursed=total - fee_cents,
            repayment_cadence=product.cadence,
            proposed_schedule=schedule,
            adverse_actions=actions,
            consumer_report=consumer_report,
            requested_amount=requested,
            created_at=now,
            updated_at=now,
            expires_at=now + product.application_ttl,
        )
        offer = application.counteroffer
        if offer is None or requested is None:
            application._record_creation("approved")
            return application
        application._record_creation(
            f"counteroffer: {amount} of the {requested} cents requested; "
            + ", ".join(a.code for a in actions)
        )
        application.outbox.events.append(
            countered_event(
                user_id=user_id,
                application_id=application_id,
                decided_on=now.date(),
                adverse_actions=actions,
                requested_amount=requested,
                counteroffer=offer,
                consumer_report=consumer_report,
            )
        )
        return application

    @classmethod
    def reject(
        cls,
        *,
        user_id: str,
        application_id: str,
        adverse_actions: Sequence[AdverseAction],
        now: dt.datetime,
        cadence: RepaymentCadence = RepaymentCadence.BIWEEKLY,
        requested_amount: int | None = None,
        consumer_report: ConsumerReport | None = None,
    ) -> LoanApplication:
        """Record a REJECTED application with the reasons the borrower must be told.

        Its outbox holds the ``application_declined`` event (`declined_event`): the
        adverse action notice of 12 CFR 1002.9 for `requested_amount` (cents, kept on the
        application), with the FCRA 615(a) part when the decision used a `consumer_report`.

        Raises:
            DomainError: without at least one adverse action (each with a code and text),
                or with a blank id.
            InvalidAmount: for a requested amount that is not positive integer cents.
            InvalidTimestamp: for a `now` that is not aware UTC.
        """
        require_id(user_id, field="user_id")
        require_id(application_id, field="application_id")
        actions = _require_actions(adverse_actions, "a rejection")
        requested = _requested(requested_amount)
        now = require_moment(now)
        application = cls(
            user_id=user_id,
            application_id=application_id,
            status=ApplicationStatus.REJECTED,
            loan_number=None,
            loan_amount=0,
            fee_type=None,
            origination_fee=0,
            fee_percent=None,
            total_amount=0,
            amount_disbursed=0,
            repayment_cadence=cadence,
            proposed_schedule=(),
            adverse_actions=actions,
            consumer_report=consumer_report,
            requested_amount=requested,
            created_at=now,
            updated_at=now,
            expires_at=None,
        )
        application._record_creation("rejected: " + ", ".join(a.code for a in actions))
        application.outbox.events.append(
            declined_event(
                product=Product.INSTALLMENT,
                user_id=user_id,
                application_id=application_id,
                decided_on=now.date(),
                adverse_actions=actions,
                requested_amount=requested,
                consumer_report=consumer_report,
            )
        )
        return application

    def abandon(self, *, now: dt.datetime) -> None:
        """Save an expired, unaccepted offer as ABANDONED (no TTL any more).

        Raises:
            InvalidTransition: unless the application is APPROVED and its TTL has passed.
            ApplicationAlreadyConverted: when the offer became a loan.
        """
        now = require_moment(now)
        if self.status is not ApplicationStatus.APPROVED:
            raise InvalidTransition(
                f"application {self.application_id} is {self.status.value}; "
                "only an APPROVED offer can be abandoned",
                about=self.ref,
            )
        if self.loan_id is not None:
            raise ApplicationAlreadyConverted(
                f"application {self.application_id} became loan {self.loan_id}; "
                "it is not abandoned",
                about=self.ref,
            )
        if not self.is_expired(now):
            raise InvalidTransition(
                f"application {self.application_id} is live until {render(self.expires_at)}",
                about=self.ref,
            )
        recorder = ChangeRecorder(process=_EXPIRATION, reason="offer expired unaccepted")
        recorder.touch(self)
        self.status = ApplicationStatus.ABANDONED
        self.expires_at = None
        self.updated_at = now
        self.outbox.changes.extend(recorder.changes())

    def require_convertible(self, now: dt.datetime, *, disbursed: bool = False) -> None:
        """Check that the offer can become a loan at `now`, changing nothing.

        With `disbursed` (a rail has already paid the borrower) an offer that expired, or
        that the TTL handler abandoned meanwhile, still converts: the money that moved
        wins over the offer's clock. A rejected or converted one never does.

        Raises:
            ApplicationNotApproved: when it was rejected or abandoned.
            ApplicationAlreadyConverted: when it already became a loan.
            ApplicationExpired: when its TTL has passed.
        """
        now = require_moment(now)
        if disbursed and self.status is ApplicationStatus.ABANDONED and self.loan_id is None:
            return
        if self.status is not ApplicationStatus.APPROVED:
            raise ApplicationNotApproved(
                f"application {self.application_id} is {self.status.value}: there is no offer "
                "to accept",
                about=self.ref,
            )
        if self.loan_id is not None:
            raise ApplicationAlreadyConverted(
                f"application {self.application_id} already became loan {self.loan_id}",
                about=self.ref,
            )
        if self.is_expired(now) and not disbursed:
            raise ApplicationExpired(
                f"application {self.application_id} expired at {render(self.expires_at)}",
                about=self.ref,
            )

    def convert(self, *, loan_id: str, now: dt.datetime, disbursed: bool = False) -> None:
        """Mark the offer as accepted and turned into `loan_id` (see `require_convertible`).

        An offer abandoned while its disbursement was under way is APPROVED again: the
        borrower has the money, so the offer was accepted.
        """
        require_id(loan_id, field="loan_id")
        self.require_convertible(now, disbursed=disbursed)
        late = self.status is ApplicationStatus.ABANDONED or self.is_expired(now)
        reason = f"converted to loan {loan_id}" + (
            " after its offer expired: the disbursement had already been paid" if late else ""
        )
        recorder = ChangeRecorder(process=_CONVERSION, reason=reason)
        recorder.touch(self)
        self.status = ApplicationStatus.APPROVED
        self.loan_id = loan_id
        self.updated_at = now
        self.outbox.changes.extend(recorder.changes())

    def disclose_again(
        self,
        *,
        schedule: Sequence[ScheduledInstallment],
        disclosed_on: dt.date,
        now: dt.datetime,
        reason: str,
    ) -> None:
        """Disclose the offer again: `schedule`, running from `disclosed_on`, is its terms now.

        Regulation Z (12 CFR 1026.17(f)): terms a later event made inaccurate are disclosed
        again. The agreement key is cleared, since the agreement stored describes the terms
        replaced until the new one is filed. A converted offer may be disclosed again too:
        its loan was made on terms its agreement must show.

        Raises:
            InvalidTransition: unless the application is an APPROVED offer.
            InvalidTimestamp: for a `disclosed_on` that is not a date, or a naive `now`.
            DomainError: for a schedule of another count or total, or a day before the
                application was made.
        """
        now = require_moment(now)
        day = require_date(disclosed_on, field="disclosed_on")
        if self.status is not ApplicationStatus.APPROVED:
            raise InvalidTransition(
                f"application {self.application_id} is {self.status.value}: "
                "there is no offer to disclose",
                about=self.ref,
            )
        lines = tuple(schedule)
        if len(lines) != len(self.proposed_schedule) or (
            sum(line.amount for line in lines) != self.total_amount
        ):
            raise DomainError(
                f"application {self.application_id} repays {self.total_amount} cents in "
                f"{len(self.proposed_schedule)} installments; a schedule of {len(lines)} "
                f"adding up to {sum(line.amount for line in lines)} is not its terms",
                about=self.ref,
            )
        if day < self.created_at.date():
            raise DomainError(
                f"application {self.application_id} was made on "
                f"{self.created_at.date().isoformat()}, not disclosed on {day.isoformat()}",
                about=self.ref,
            )
        recorder = ChangeRecorder(process=_UNDERWRITING, reason=reason)
        recorder.touch(self)
        self.proposed_schedule = lines
        self.redisclosed_on = day
        self.agreement_key = None
        self.updated_at = now
        self.outbox.changes.extend(recorder.changes())

    def file_agreement(self, key: str, *, now: dt.datetime) -> None:
        """Record that the offer's agreement is stored under `key` (audited with the approval)."""
        require_id(key, field="agreement_key")
        recorder = ChangeRecorder(process=_UNDERWRITING, reason=f"agreement stored as {key}")
        recorder.touch(self)
        self.agreement_key = key
        self.updated_at = now
        self.outbox.changes.extend(recorder.changes())

    # --- queries ----------------------------------------------------------------------

    @property
    def disclosed_on(self) -> dt.date:
        """The day the disclosed schedule runs from: the approval's, or the last redisclosure's."""
        return self.created_at.date() if self.redisclosed_on is None else self.redisclosed_on

    @property
    def ref(self) -> Ref:
        """The application as an error about it names it."""
        return Ref("loan_application", self.application_id, self.user_id)

    @property
    def is_counteroffer(self) -> bool:
        """Whether the offer is for less than the amount requested (an unknown one: no).

        An offer stays one once accepted or abandoned: its notice was sent when it was made.
        """
        return (
            self.status is not ApplicationStatus.REJECTED
            and self.requested_amount is not None
            and self.loan_amount < self.requested_amount
        )

    @property
    def counteroffer(self) -> Counteroffer | None:
        """The terms a counteroffer offers, as its notice states them; None if not one."""
        if not self.is_counteroffer:
            return None
        return Counteroffer(
            loan_amount=self.loan_amount,
            origination_fee=self.origination_fee,
            amount_disbursed=self.amount_disbursed,
            total_amount=self.total_amount,
            installment_count=len(self.proposed_schedule),
            accept_by=self.expires_at,
        )

    def is_expired(self, now: dt.datetime) -> bool:
        """Whether an APPROVED offer's TTL has passed at `now` (the TTL instant counts)."""
        return self.expires_at is not None and now >= self.expires_at

    def is_live(self, now: dt.datetime) -> bool:
        """Whether the offer can still be accepted at `now`."""
        return (
            self.status is ApplicationStatus.APPROVED
            and self.loan_id is None
            and not self.is_expired(now)
        )

    def verify(self) -> None:
        """Check that the record agrees with itself; a loaded record is verified, not trusted.

        Raises:
            InvariantViolation: naming the first contradiction found.
        """
        problems = self._problems()
        if problems:
            raise InvariantViolation(
                f"application {self.application_id}: {problems[0]}",
                about=self.ref,
                invariant="application_consistent",
            )

    def _problems(self) -> list[str]:
        problems = utc_problems(self, "created_at", "updated_at", "expires_at")
        problems.extend(self._amount_problems())
        problems.extend(self._schedule_problems())
        if self.status is ApplicationStatus.APPROVED:
            problems.extend(self._offer_problems())
        else:
            if self.expires_at is not None or self.loan_id is not None:
                problems.append(f"a {self.status.value} application has no TTL and no loan")
            if self.status is ApplicationStatus.REJECTED and not self.adverse_actions:
                problems.append("a REJECTED application needs at least one adverse action")
        return problems

    def _amount_problems(self) -> list[str]:
        found = []
        if self.total_amount != self.loan_amount + self.origination_fee:
            found.append("total_amount != loan_amount + origination_fee")
        if self.amount_disbursed != self.total_amount - self.origination_fee:
            found.append("amount_disbursed != total_amount - origination_fee")
        requested = self.requested_amount
        if requested is not None and (type(requested) is not int or requested <= 0):
            found.append("requested_amount is not positive integer cents")
        return found

    def _offer_problems(self) -> list[str]:
        found = []
        if self.loan_number is None or self.fee_type is None:
            found.append("an APPROVED offer needs a loan number and a fee type")
        if self.expires_at is None and self.loan_id is None:
            found.append("an APPROVED offer not yet accepted needs a TTL")
        if self.loan_amount <= 0:
            found.append("an APPROVED offer has a positive amount")
        if bool(self.adverse_actions) is not self.is_counteroffer:
            found.append(
                "an APPROVED offer has adverse actions exactly when it is a counteroffer "
                "(less than the amount requested)"
            )
        if self.consumer_report is not None and not self.is_counteroffer:
            found.append("an APPROVED offer of the amount requested keeps no consumer report")
        return found

    def _schedule_problems(self) -> list[str]:
        found = []
        if sum(line.amount for line in self.proposed_schedule) != self.total_amount:
            found.append("the proposed schedule does not add up to total_amount")
        if self.redisclosed_on is not None and self.redisclosed_on < self.created_at.date():
            found.append("redisclosed_on is before the application was made")
        return found

    # --- audit ------------------------------------------------------------------------

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("application", self.application_id)

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values (schedule, adverse actions, report rendered)."""
        schedule = ",".join(
            f"{line.amount}@{line.due_date.isoformat()}" for line in self.proposed_schedule
        )
        adverse = ",".join(action.code for action in self.adverse_actions)
        report = audited_report(self.consumer_report)
        return _AUDITED, (*_read_terms(self), schedule, adverse, report, *_read_progress(self))

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered (the schedule as ``amount@date`` pairs)."""
        return audit.rendered(*self.audit_fields())

    def _record_creation(self, reason: str) -> None:
        recorder = ChangeRecorder(process=_UNDERWRITING, reason=reason)
        recorder.created(self)
        self.outbox.changes.extend(recorder.changes())


def _require_actions(
    adverse_actions: Sequence[AdverseAction], what: str
) -> tuple[AdverseAction, ...]:
    """`adverse_actions` as a tuple: at least one, each with a code and a text.

    Raises:
        DomainError: naming `what` needs them.
    """
    actions = tuple(adverse_actions)
    if not actions:
        raise DomainError(f"{what} needs at least one adverse action reason")
    for action in actions:
        if not isinstance(action, AdverseAction) or not action.code or not action.text:
            raise DomainError(f"an adverse action needs a code and a text, got {action!r}")
    return actions


def _requested(requested_amount: int | None) -> int | None:
    """The amount requested: positive integer cents, or None when not known.

    Raises:
        InvalidAmount: for anything else.
    """
    if requested_amount is None:
        return None
    return positive_cents(requested_amount, field="requested_amount")
