"""Underwriting vocabulary shared by loan and credit-line applications.

Besides the statuses and the adverse action reasons: what a rejection tells the
applicant. A rejected application (either product) records an ``application_declined``
event in its outbox (`declined_event`), committed with the rejection; the event's data
is everything the adverse action notice prints (Regulation B, 12 CFR 1002.9(a)(2)), and
`AdverseActionNotice.from_event` reads it back. When the decision used a consumer
report, the event carries its `ConsumerReport` too (FCRA 615(a), 15 U.S.C. 1681m(a)), and
the rejected application stores it, so the notice is rendered from the application as
stored (`audited_report` is how its audit trail records it).

An installment loan approved for less than the amount requested is a counteroffer (12 CFR
1002.9(a)(1)(iv)): its application records an ``application_countered`` event
(`countered_event`), whose notice is the combined counteroffer and adverse action notice
of comment 9(a)(1)-6 and model form C-4: the same parts as a rejection's, plus the
`Counteroffer`'s terms.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping, Sequence

import attrs

from loc_core.bookkeeping import Product
from loc_core.errors import DomainError, InvalidRequest
from loc_core.events import AuditValue, DomainEvent, EventType

__all__ = [
    "MAX_KEY_FACTORS",
    "NOTICE_EVENTS",
    "NOTICE_REASONS",
    "OFFERED",
    "AdverseAction",
    "AdverseActionNotice",
    "ApplicationStatus",
    "ConsumerReport",
    "Counteroffer",
    "CreditScore",
    "audited_report",
    "countered_event",
    "declined_event",
    "notice_document_path",
]


class ApplicationStatus(enum.Enum):
    """Where an application stands; values are the stored `loc_status` strings."""

    APPROVED = "APPROVED"
    """Approved and offered; accepting it before its TTL makes a loan or line. A loan offer
    for less than the amount requested (a counteroffer) carries adverse action reasons."""
    REJECTED = "REJECTED"
    """Declined by underwriting, with adverse action reasons."""
    ABANDONED = "ABANDONED"
    """The offer expired without being accepted."""


@attrs.frozen
class AdverseAction:
    """One reason an application was rejected, or offered less than requested, as told."""

    code: str
    text: str


NOTICE_REASONS = 4
"""The most reasons an adverse action notice states, in underwriting's order: the
official interpretation of 12 CFR 1002.9(b)(2) says more than four is not likely to be
helpful. A fifth and later reason stays on the application (its audit trail and the
application's HTTP answer), not in the notice."""

MAX_KEY_FACTORS = 4
"""The key factors that adversely affected a credit score a notice may list (FCRA
615(a)(2)(B), 609(f)(1)(C)); a fifth only when the number of inquiries is one of them
(609(f)(9))."""

_MAX_TEXT = 500
"""The longest text of a consumer report's part (a name, an address, a factor)."""


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise InvalidRequest(
            f"{field} must be a non-empty string of at most {_MAX_TEXT} characters, got {value!r}",
            key=field,
        )
    return value


def _whole(value: object, field: str) -> int:
    if type(value) is not int:
        raise InvalidRequest(f"{field} must be an integer, got {value!r}", key=field)
    return value


def _names_inquiries(factor: str) -> bool:
    return "inquir" in factor.lower()


@attrs.frozen
class CreditScore:
    """The credit score a decision used, as FCRA 615(a)(2) (609(f)(1)) has it disclosed.

    Raises:
        InvalidRequest: naming the field, for a score outside its range, an empty range,
            a date that is not a `datetime.date`, a blank text, or more key factors than
            `MAX_KEY_FACTORS` (five only with the number of inquiries among them).
    """

    value: int
    low: int
    """The lowest score the model can give."""
    high: int
    """The highest score the model can give."""
    created_on: dt.date
    """The day the score was created."""
    source: str
    """Who created it: the consumer reporting agency or the score's developer."""
    key_factors: tuple[str, ...] = ()
    """The factors that adversely affected the score, most important first."""

    def __attrs_post_init__(self) -> None:
        low, high = _whole(self.low, "score_low"), _whole(self.high, "score_high")
        if not low < high:
            raise InvalidRequest(f"a score range needs low < high, got {low}..{high}", key="score")
        if not low <= _whole(self.value, "score") <= high:
            raise InvalidRequest(
                f"score {self.value} is outside its range {low}..{high}", key="score"
            )
        if type(self.created_on) is not dt.date:
            raise InvalidRequest(
                f"score_date must be a date, got {self.created_on!r}", key="score_date"
            )
        _text(self.source, "score_source")
        if not isinstance(self.key_factors, tuple):
            raise InvalidRequest("key_factors must be a tuple of texts", key="key_factors")
        for factor in self.key_factors:
            _text(factor, "key_factors")
        allowed = MAX_KEY_FACTORS + any(_names_inquiries(f) for f in self.key_factors)
        if len(self.key_factors) > allowed:
            raise InvalidRequest(
                f"at most {MAX_KEY_FACTORS} key factors (a fifth only for the number of "
                f"inquiries), got {len(self.key_factors)}",
                key="key_factors",
            )


@attrs.frozen
class ConsumerReport:
    """The consumer report a decision used: its agency, and the credit score if one was used.

    Underwriting sends it whenever the decision used a consumer report in whole or in
    part; the adverse action notice then adds the FCRA 615(a) section.

    Raises:
        InvalidRequest: naming the field, for a blank or too long text.
    """

    agency_name: str
    agency_address: str
    agency_phone: str
    """The agency's toll-free telephone number (a nationwide agency's, 615(a)(3)(A))."""
    score: CreditScore | None = None
    """None when the decision used the report but no credit score."""

    def __attrs_post_init__(self) -> None:
        _text(self.agency_name, "agency_name")
        _text(self.agency_address, "agency_address")
        _text(self.agency_phone, "agency_phone")
        if self.score is not None and not isinstance(self.score, CreditScore):
            raise InvalidRequest(f"score must be a CreditScore, got {self.score!r}", key="score")


_PATHS = {Product.INSTALLMENT: "/loans/applications", Product.CREDITLINE: "/lines/applications"}


def notice_document_path(product: Product, application_id: str) -> str:
    """The HTTP API route that answers a fresh link to an application's adverse action notice.

    The ``application_declined`` notification carries this path, never a presigned URL,
    as ``loc_statement_ready`` carries its statement's route.
    """
    return f"{_PATHS[product]}/{application_id}/adverse-action-notice"


@attrs.frozen
class Counteroffer:
    """The credit offered instead of the credit requested: an installment offer's terms.

    What a combined counteroffer and adverse action notice (model form C-4) offers; the
    offer's agreement, filed with it, discloses its APR and schedule (Regulation Z).
    """

    loan_amount: int
    """The principal offered, in cents (less than the amount requested)."""
    origination_fee: int
    amount_disbursed: int
    """What the borrower would receive."""
    total_amount: int
    """What the borrower would repay: the loan amount and the origination fee."""
    installment_count: int
    accept_by: dt.datetime | None
    """When the offer lapses (its TTL); None when no longer known (an offer abandoned
    since, whose notice's event then gives it)."""


OFFERED = (
    "offered_amount",
    "offered_origination_fee",
    "offered_amount_disbursed",
    "offered_total_amount",
    "offered_installment_count",
    "offer_expires_at",
)
"""A counteroffer's fields in its ``application_countered`` event, in `Counteroffer`'s order."""


@attrs.frozen
class AdverseActionNotice:
    """What an adverse action notice states (12 CFR 1002.9(a)(2), FCRA 615(a)).

    The creditor's name and address, the ECOA notice and the federal agency are the
    renderer's to print; everything about the application is here. With a `counteroffer`
    it is the combined counteroffer and adverse action notice (comment 9(a)(1)-6, model
    form C-4): the reasons are why the amount requested was not granted, and the notice
    is the adverse action notice should the applicant neither accept nor use the offer.
    """

    product: Product
    user_id: str
    application_id: str
    decided_on: dt.date
    """The date of the action taken (the rejection, or the counteroffer)."""
    requested_amount: int | None
    """The amount asked for, in cents, where the request named one (a loan's)."""
    reasons: tuple[AdverseAction, ...]
    """The principal reasons, at most `NOTICE_REASONS`, in underwriting's order."""
    reasons_given: int
    """How many reasons underwriting gave (more than `reasons` holds when above four)."""
    consumer_report: ConsumerReport | None = None
    counteroffer: Counteroffer | None = None
    """The credit offered instead (an installment loan's counteroffer); None: a rejection."""

    @property
    def document(self) -> str:
        """The route of the notice (`notice_document_path`)."""
        return notice_document_path(self.product, self.application_id)

    @property
    def event_type(self) -> EventType:
        """``application_countered`` with a counteroffer, else ``application_declined``."""
        return NOTICE_EVENTS[self.counteroffer is not None]

    def event(self) -> DomainEvent:
        """The event that announces this notice, on the day of the action taken."""
        return DomainEvent(
            self.event_type, self.user_id, self.application_id, self.decided_on, self.event_data()
        )

    def event_data(self) -> dict[str, AuditValue]:
        """The notice's event data: every field flat, an unknown one None.

        ``reason_<n>_code``/``reason_<n>_text`` for n in 1..4 and the consumer report's
        ``report_*`` fields (``report_key_factor_<n>`` for n in 1..5) are always present;
        a counteroffer's event adds its terms (``offered_*``, ``offer_expires_at``).
        """
        data: dict[str, AuditValue] = {
            "product": self.product.value,
            "application_id": self.application_id,
            "decided_on": self.decided_on.isoformat(),
            "requested_amount": self.requested_amount,
            "reasons_given": self.reasons_given,
            "document": self.document,
        }
        for number in range(1, NOTICE_REASONS + 1):
            reason = self.reasons[number - 1] if number <= len(self.reasons) else None
            data[f"reason_{number}_code"] = None if reason is None else reason.code
            data[f"reason_{number}_text"] = None if reason is None else reason.text
        data.update(_report_data(self.consumer_report))
        offer = self.counteroffer
        if offer is not None:
            accept_by = None if offer.accept_by is None else offer.accept_by.isoformat()
            terms = (
                offer.loan_amount,
                offer.origination_fee,
                offer.amount_disbursed,
                offer.total_amount,
                offer.installment_count,
                accept_by,
            )
            data.update(zip(OFFERED, terms, strict=True))
        return data

    @classmethod
    def from_event(cls, event: DomainEvent) -> AdverseActionNotice:
        """The notice an ``application_declined`` or ``application_countered`` event announces.

        Raises:
            DomainError: another event, or data `event_data` did not write.
        """
        if event.type not in NOTICE_EVENTS.values():
            raise DomainError(f"not an adverse action notice's event: {event.type.value}")
        data = event.data
        try:
            reasons = tuple(
                AdverseAction(str(data[f"reason_{n}_code"]), str(data[f"reason_{n}_text"]))
                for n in range(1, NOTICE_REASONS + 1)
                if data.get(f"reason_{n}_code") is not None
            )
            requested = data.get("requested_amount")
            return cls(
                product=Product(str(data["product"])),
                user_id=event.user_id,
                application_id=event.subject_id,
                decided_on=dt.date.fromisoformat(str(data["decided_on"])),
                requested_amount=None if requested is None else _whole(requested, "requested"),
                reasons=reasons,
                reasons_given=_whole(data["reasons_given"], "reasons_given"),
                consumer_report=_report_from(data),
                counteroffer=(
                    _counteroffer_from(data)
                    if event.type is EventType.APPLICATION_COUNTERED
                    else None
                ),
            )
        except (KeyError, ValueError) as exc:
            raise DomainError(f"malformed {event.type.value} event: {exc!r}") from exc


NOTICE_EVENTS: Mapping[bool, EventType] = {
    False: EventType.APPLICATION_DECLINED,
    True: EventType.APPLICATION_COUNTERED,
}
"""The event that announces an adverse action notice, by whether it makes a counteroffer."""


def _counteroffer_from(data: Mapping[str, AuditValue]) -> Counteroffer:
    """The terms an ``application_countered`` event offers (`OFFERED`)."""
    amount, fee, disbursed, total, count = (_whole(data[name], name) for name in OFFERED[:-1])
    accept_by = data[OFFERED[-1]]
    return Counteroffer(
        loan_amount=amount,
        origination_fee=fee,
        amount_disbursed=disbursed,
        total_amount=total,
        installment_count=count,
        accept_by=None if accept_by is None else dt.datetime.fromisoformat(str(accept_by)),
    )


def declined_event(
    *,
    product: Product,
    user_id: str,
    application_id: str,
    decided_on: dt.date,
    adverse_actions: Sequence[AdverseAction],
    requested_amount: int | None = None,
    consumer_report: ConsumerReport | None = None,
    counteroffer: Counteroffer | None = None,
) -> DomainEvent:
    """The ``application_declined`` event a rejection commits: its notice, as event data.

    The notice states the first `NOTICE_REASONS` reasons, in underwriting's order. With a
    `counteroffer` it is the ``application_countered`` event instead (`countered_event`).
    """
    _require_report(consumer_report)
    notice = AdverseActionNotice(
        product=product,
        user_id=user_id,
        application_id=application_id,
        decided_on=decided_on,
        requested_amount=requested_amount,
        reasons=tuple(adverse_actions)[:NOTICE_REASONS],
        reasons_given=len(adverse_actions),
        consumer_report=consumer_report,
        counteroffer=counteroffer,
    )
    return notice.event()


def countered_event(
    *,
    user_id: str,
    application_id: str,
    decided_on: dt.date,
    adverse_actions: Sequence[AdverseAction],
    requested_amount: int,
    counteroffer: Counteroffer,
    consumer_report: ConsumerReport | None = None,
) -> DomainEvent:
    """The ``application_countered`` event an installment counteroffer commits.

    Its notice is the combined counteroffer and adverse action notice: the reasons the
    amount requested was not granted (the first `NOTICE_REASONS`), the terms offered, and
    the FCRA 615(a) part when the decision used a `consumer_report`.
    """
    return declined_event(
        product=Product.INSTALLMENT,
        user_id=user_id,
        application_id=application_id,
        decided_on=decided_on,
        adverse_actions=adverse_actions,
        requested_amount=requested_amount,
        consumer_report=consumer_report,
        counteroffer=counteroffer,
    )


def audited_report(report: ConsumerReport | None) -> str | None:
    """A rejected or countered application's consumer report as its audit trail keeps it.

    None for none.
    The notice's ``report_*`` fields that are set, as compact JSON with sorted keys: every
    part the notice prints, so the trail alone shows what the notice stated.

    Raises:
        DomainError: for a value that is not a `ConsumerReport`.
    """
    checked = _require_report(report)
    if checked is None:
        return None
    data = {name: value for name, value in _report_data(checked).items() if value is not None}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _require_report(report: object) -> ConsumerReport | None:
    """`report`, a `ConsumerReport` or None.

    Raises:
        DomainError: for anything else.
    """
    if report is not None and not isinstance(report, ConsumerReport):
        raise DomainError(f"consumer_report must be a ConsumerReport, got {report!r}")
    return report


_FACTORS = MAX_KEY_FACTORS + 1


def _report_data(report: ConsumerReport | None) -> dict[str, AuditValue]:
    score = None if report is None else report.score
    factors = () if score is None else score.key_factors
    data: dict[str, AuditValue] = {
        "report_agency_name": None if report is None else report.agency_name,
        "report_agency_address": None if report is None else report.agency_address,
        "report_agency_phone": None if report is None else report.agency_phone,
        "report_score": None if score is None else score.value,
        "report_score_low": None if score is None else score.low,
        "report_score_high": None if score is None else score.high,
        "report_score_date": None if score is None else score.created_on.isoformat(),
        "report_score_source": None if score is None else score.source,
    }
    for number in range(1, _FACTORS + 1):
        data[f"report_key_factor_{number}"] = (
            factors[number - 1] if number <= len(factors) else None
        )
    return data


def _report_from(data: Mapping[str, AuditValue]) -> ConsumerReport | None:
    if data.get("report_agency_name") is None:
        return None
    score = None
    if data.get("report_score") is not None:
        score = CreditScore(
            value=_whole(data["report_score"], "score"),
            low=_whole(data["report_score_low"], "score_low"),
            high=_whole(data["report_score_high"], "score_high"),
            created_on=dt.date.fromisoformat(str(data["report_score_date"])),
            source=str(data["report_score_source"]),
            key_factors=tuple(
                str(factor)
                for n in range(1, _FACTORS + 1)
                if (factor := data.get(f"report_key_factor_{n}")) is not None
            ),
        )
    return ConsumerReport(
        agency_name=str(data["report_agency_name"]),
        agency_address=str(data["report_agency_address"]),
        agency_phone=str(data["report_agency_phone"]),
        score=score,
    )
