"""Credit-line applications (`LOCAPP#`): an offer that converts once into a line.

Underwriting answers APPROVED (limit, APR, minimum-payment percent, each within the
product's bounds) or REJECTED (at least one adverse action). The offer lives for the
product's TTL (24 h); an approved offer nobody accepted in time becomes ABANDONED.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loc_core import audit
from loc_core.applications import (
    AdverseAction,
    ApplicationStatus,
    ConsumerReport,
    audited_report,
    declined_event,
)
from loc_core.audit import ChangeRecorder, Process, render
from loc_core.bookkeeping import Product
from loc_core.calendar import require_utc
from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.cycles import cycle_day_for
from loc_core.creditline.line import CreditLine
from loc_core.errors import (
    ApplicationAlreadyConverted,
    ApplicationError,
    ApplicationExpired,
    ApplicationNotApproved,
    InvalidTransition,
    Ref,
)
from loc_core.events import AuditValue, Outbox
from loc_core.money import positive_cents

__all__ = ["CreditLineApplication"]


@attrs.define(kw_only=True)
class CreditLineApplication:
    """Underwriting's answer to one request for a line, and whether it became one.

    Build it with `approved` or `rejected`, which validate the offer.
    """

    application_id: str
    user_id: str
    status: ApplicationStatus
    created_at: dt.datetime
    expires_at: dt.datetime
    credit_limit: int | None = None
    apr: Decimal | None = None
    minimum_payment_percent: Decimal | None = None
    adverse_actions: tuple[AdverseAction, ...] = ()
    consumer_report: ConsumerReport | None = None
    """The consumer report a rejection's decision used (FCRA 615(a)), kept so its adverse
    action notice is rendered from the application as stored; None when none was used."""
    line_id: str | None = None
    """The line it converted into; set once."""
    converted_at: dt.datetime | None = None
    version: int = 0
    outbox: Outbox = attrs.field(factory=Outbox)

    @classmethod
    def approved(
        cls,
        *,
        application_id: str,
        user_id: str,
        created_at: dt.datetime,
        credit_limit: object,
        apr: object,
        minimum_payment_percent: object,
        product: CreditLineProduct,
    ) -> CreditLineApplication:
        """An APPROVED offer, its terms checked against `product`.

        Raises:
            InvalidTimestamp: `created_at` is naive or not UTC.
            InvalidAmount: the limit is not a positive integer of cents.
            InvalidRate: the APR or minimum-payment percent is a float or out of bounds.
        """
        created = require_utc(created_at, field="created_at")
        application = cls(
            application_id=application_id,
            user_id=user_id,
            status=ApplicationStatus.APPROVED,
            created_at=created,
            expires_at=created + product.application_ttl,
            credit_limit=positive_cents(credit_limit, field="credit_limit"),
            apr=product.check_apr(apr),
            minimum_payment_percent=product.check_minimum_payment_percent(minimum_payment_percent),
        )
        application._record_creation("underwriting approved")
        return application

    @classmethod
    def rejected(
        cls,
        *,
        application_id: str,
        user_id: str,
        created_at: dt.datetime,
        adverse_actions: tuple[AdverseAction, ...],
        product: CreditLineProduct,
        consumer_report: ConsumerReport | None = None,
    ) -> CreditLineApplication:
        """A REJECTED application with the reasons the borrower must be told.

        Its outbox holds the ``application_declined`` event (`declined_event`): the
        adverse action notice of 12 CFR 1002.9 (a line request names no limit), with the
        FCRA 615(a) part when the decision used a `consumer_report`.

        Raises:
            InvalidTimestamp: `created_at` is naive or not UTC.
            ApplicationError: no adverse action was given.
        """
        created = require_utc(created_at, field="created_at")
        if not adverse_actions:
            raise ApplicationError(
                f"application {application_id} is rejected without a reason: "
                "a rejection needs at least one adverse action",
                about=Ref("line_application", application_id, user_id),
            )
        application = cls(
            application_id=application_id,
            user_id=user_id,
            status=ApplicationStatus.REJECTED,
            created_at=created,
            expires_at=created + product.application_ttl,
            adverse_actions=tuple(adverse_actions),
            consumer_report=consumer_report,
        )
        application._record_creation("underwriting rejected")
        application.outbox.events.append(
            declined_event(
                product=Product.CREDITLINE,
                user_id=user_id,
                application_id=application_id,
                decided_on=created.date(),
                adverse_actions=application.adverse_actions,
                consumer_report=consumer_report,
            )
        )
        return application

    @property
    def ref(self) -> Ref:
        """The application as an error about it names it."""
        return Ref("line_application", self.application_id, self.user_id)

    def is_expired(self, now: dt.datetime) -> bool:
        """Whether the offer's TTL has passed at `now`."""
        return require_utc(now, field="now") >= self.expires_at

    def open_line(
        self,
        *,
        line_id: str,
        now: dt.datetime,
        product: CreditLineProduct,
        cycle_day: int | None = None,
    ) -> CreditLine:
        """Convert an approved, unexpired, unconverted application into an ACTIVE line.

        The line opens on `now`'s UTC date; its cycle day is `cycle_day`, else the
        product's, else the opening day (29-31 become 28).

        Raises:
            InvalidTimestamp: `now` is naive or not UTC.
            ApplicationAlreadyConverted: it already became a line.
            ApplicationNotApproved: it was rejected or abandoned.
            ApplicationExpired: its TTL passed.
            InvalidConfiguration: `cycle_day` outside 1..28.
        """
        return _open_line(self, line_id=line_id, now=now, product=product, cycle_day=cycle_day)

    def abandon(self, *, now: dt.datetime) -> None:
        """Mark an approved offer that expired unaccepted ABANDONED; repeats change nothing.

        Raises:
            InvalidTimestamp: `now` is naive or not UTC.
            ApplicationAlreadyConverted: it became a line.
            ApplicationNotApproved: it was rejected.
            InvalidTransition: its offer has not expired yet.
        """
        _abandon(self, now=now)

    # --- audit ------------------------------------------------------------------------

    def audit_key(self) -> tuple[str, str]:
        """The audited entity type and id."""
        return ("application", self.application_id)

    def audit_fields(self) -> audit.Fields:
        """The audited fields and their values, rendered as `audit_snapshot` gives them."""
        return audit.snapshot_fields(self.audit_snapshot())

    def audit_snapshot(self) -> dict[str, AuditValue]:
        """The audited fields, rendered (adverse actions as ``code: text`` pairs)."""
        return {
            "status": render(self.status),
            "created_at": render(self.created_at),
            "expires_at": render(self.expires_at),
            "credit_limit": self.credit_limit,
            "apr": render(self.apr),
            "minimum_payment_percent": render(self.minimum_payment_percent),
            "adverse_actions": "; ".join(f"{a.code}: {a.text}" for a in self.adverse_actions),
            "consumer_report": audited_report(self.consumer_report),
            "line_id": self.line_id,
            "converted_at": render(self.converted_at),
        }

    def _record_creation(self, reason: str) -> None:
        recorder = ChangeRecorder(process=Process.OPEN, reason=reason)
        recorder.created(self)
        self.outbox.changes.extend(recorder.changes())


def _require_offer(application: CreditLineApplication, *, refusal: str) -> None:
    """Refuse an application that already became a line or holds no offer (`refusal` says why).

    Raises:
        ApplicationAlreadyConverted: it became a line.
        ApplicationNotApproved: it was rejected or abandoned.
    """
    if application.line_id is not None:
        raise ApplicationAlreadyConverted(
            f"application {application.application_id} already became line {application.line_id}",
            about=application.ref,
        )
    if application.status is not ApplicationStatus.APPROVED:
        raise ApplicationNotApproved(
            f"application {application.application_id} is {application.status.value}: {refusal}",
            about=application.ref,
        )


def _open_line(
    application: CreditLineApplication,
    *,
    line_id: str,
    now: dt.datetime,
    product: CreditLineProduct,
    cycle_day: int | None = None,
) -> CreditLine:
    moment = require_utc(now, field="now")
    _require_offer(application, refusal="there is no offer to accept")
    if application.is_expired(moment):
        raise ApplicationExpired(
            f"application {application.application_id}'s offer expired at "
            f"{application.expires_at.isoformat()}",
            about=application.ref,
        )
    opened_on = moment.date()
    day = cycle_day_for(opened_on, product, requested=cycle_day)
    if (
        application.credit_limit is None
        or application.apr is None
        or application.minimum_payment_percent is None
    ):
        raise ApplicationNotApproved(
            f"application {application.application_id} carries no terms to open a line with",
            about=application.ref,
        )
    line = CreditLine(
        line_id=line_id,
        user_id=application.user_id,
        application_id=application.application_id,
        opened_on=opened_on,
        credit_limit=application.credit_limit,
        apr=application.apr,
        minimum_payment_percent=application.minimum_payment_percent,
        cycle_day=day,
    )
    recorder = ChangeRecorder(process=Process.CONVERSION, reason=f"opened line {line_id}")
    recorder.touch(application)
    application.line_id, application.converted_at = line_id, moment
    application.outbox.changes.extend(recorder.changes())
    opened = ChangeRecorder(
        process=Process.OPEN, reason=f"opened from application {application.application_id}"
    )
    opened.created(line)
    line.outbox.changes.extend(opened.changes())
    return line


def _abandon(application: CreditLineApplication, *, now: dt.datetime) -> None:
    moment = require_utc(now, field="now")
    if application.status is ApplicationStatus.ABANDONED:
        return
    _require_offer(application, refusal="only an approved offer is abandoned")
    if not application.is_expired(moment):
        raise InvalidTransition(
            f"application {application.application_id}'s offer is live until "
            f"{application.expires_at.isoformat()}",
            about=application.ref,
        )
    recorder = ChangeRecorder(process=Process.EXPIRATION, reason="offer expired unaccepted")
    recorder.touch(application)
    application.status = ApplicationStatus.ABANDONED
    application.outbox.changes.extend(recorder.changes())
