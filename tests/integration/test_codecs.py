"""Items round-trip every field of every stored class, exactly as DynamoDB hands them back.

The codecs are pure, so these tests need no server: an item goes through boto3's type
serializer and deserializer, as it does on the wire (numbers come back as `Decimal`).
A field added to a domain class is caught twice: the lifecycle round trips compare every
field, and `test_every_field_is_stored` changes each field alone and reads it back.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import types
import typing
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import pytest
from adverse_actions import REASONS, REPORT
from contracts.intents import make_intent
from fakes import bare_line, line_offer, opened_line
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant
from support import go_items as go
from unit.creditline.test_corrections import Books

from loc_adapters.dynamodb import _codecs as codecs
from loc_adapters.dynamodb._convert import (
    Item,
    Shape,
    converter,
    format_timestamp,
    parse_date,
    parse_timestamp,
)
from loc_adapters.dynamodb._table import deserialize, serialize
from loc_core.applications import ConsumerReport
from loc_core.creditline import (
    ActivityKind,
    BillingDispute,
    CreditLine,
    CreditLineApplication,
    CreditLineProduct,
    DisputedCharge,
    DisputeStatus,
    LineLateFeeWaiver,
    LineStatus,
)
from loc_core.errors import InvariantViolation
from loc_core.events import AuditRecord, DomainEvent, EventType
from loc_core.installment import (
    InstallmentProduct,
    LateFeeWaiver,
    Loan,
    LoanApplication,
    OriginationFee,
    Process,
    RepaymentCadence,
)
from loc_core.intents import INTENT_RETENTION, IntentKind, IntentStatus, TransferIntent
from loc_core.payments import Direction, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent
from loc_core.refunds import RefundDue, RefundStatus
from loc_core.testing import creditline as line_strategies
from loc_core.testing import installment as loan_strategies
from loc_core.testing.creditline import CreditLineLifecycle, disbursed_draw
from loc_core.testing.installment import LoanLifecycle, make_loan

UTC = dt.UTC


def wire(items: list[Item]) -> list[Item]:
    """What DynamoDB gives back for items written."""
    return [deserialize(serialize(item)) for item in items]


def same_fields(left: attrs.AttrsInstance, right: object) -> list[str]:
    """The names of the attrs fields (but the outbox) whose values differ."""
    return [
        field.name
        for field in attrs.fields(type(left))
        if field.name != "outbox" and getattr(left, field.name) != getattr(right, field.name)
    ]


def stored_loan(loan: Loan) -> Loan:
    root, *children = wire(codecs.encode_loan(loan, shards=3))
    return codecs.decode_loan(root, children)


def stored_line(line: CreditLine) -> CreditLine:
    root, *children = wire(codecs.encode_line(line, shards=1))
    return codecs.decode_line(root, children)


# --- whole aggregates --------------------------------------------------------------------


@settings(max_examples=40)
@given(loan_strategies.loans())
def test_a_new_loan_round_trips(loan: Loan) -> None:
    assert same_fields(loan, stored_loan(loan)) == []


@settings(max_examples=40)
@given(line_strategies.lines())
def test_a_new_line_round_trips(line: CreditLine) -> None:
    assert same_fields(line, stored_line(line)) == []


@settings(max_examples=40)
@given(loan_strategies.applications())
def test_a_loan_application_round_trips(application: LoanApplication) -> None:
    (item,) = wire([codecs.encode_loan_application(application)])
    assert same_fields(application, codecs.decode_loan_application(item)) == []


@settings(max_examples=20)
@given(line_strategies.approved_applications())
def test_a_line_application_round_trips(application: Any) -> None:
    (item,) = wire([codecs.encode_line_application(application)])
    assert same_fields(application, codecs.decode_line_application(item)) == []


def test_a_rejected_application_keeps_its_consumer_report_and_an_older_item_has_none() -> None:
    made = dt.datetime(2026, 3, 5, 14, tzinfo=UTC)
    loan_app = LoanApplication.reject(
        user_id="user-1",
        application_id="app-1",
        adverse_actions=REASONS,
        now=made,
        consumer_report=REPORT,
    )
    line_app = CreditLineApplication.rejected(
        application_id="lapp-1",
        user_id="user-1",
        created_at=made,
        adverse_actions=REASONS,
        product=CreditLineProduct(),
        consumer_report=REPORT,
    )
    (loan_item,) = wire([codecs.encode_loan_application(loan_app)])
    (line_item,) = wire([codecs.encode_line_application(line_app)])
    assert codecs.decode_loan_application(loan_item).consumer_report == REPORT
    assert codecs.decode_line_application(line_item).consumer_report == REPORT
    assert loan_item["loc_consumer_report"]["score"]["created_on"] == "2026-03-04"
    older = {name: value for name, value in loan_item.items() if name != "loc_consumer_report"}
    assert codecs.decode_loan_application(older).consumer_report is None
    none_used = LoanApplication.reject(
        user_id="user-1", application_id="app-2", adverse_actions=REASONS, now=made
    )
    assert "loc_consumer_report" not in codecs.encode_loan_application(none_used)


def test_a_counteroffer_keeps_the_amount_requested_and_an_older_item_knows_none() -> None:
    made = dt.datetime(2026, 3, 5, 14, tzinfo=UTC)
    offer = LoanApplication.approve(
        product=InstallmentProduct(),
        user_id="user-1",
        application_id="app-1",
        loan_number="FM-000001",
        loan_amount=40_000,
        fee=OriginationFee.percentage(Decimal(5)),
        now=made,
        requested_amount=45_000,
        adverse_actions=REASONS[:1],
        consumer_report=REPORT,
    )
    (item,) = wire([codecs.encode_loan_application(offer)])
    assert item["loc_requested_amount"] == 45_000
    back = codecs.decode_loan_application(item)
    assert same_fields(offer, back) == []
    assert back.counteroffer == offer.counteroffer is not None
    older = {
        name: value
        for name, value in item.items()
        if name not in {"loc_requested_amount", "loc_consumer_report"}
    }
    older["loc_adverse_actions"] = []  # an approval before counteroffers kept none
    assert codecs.decode_loan_application(older).counteroffer is None  # unknown: no counteroffer


# --- what the Go service writes for an unset field (attributevalue.MarshalMap) ------------


@pytest.mark.parametrize(
    ("status", "completed"),
    [
        pytest.param("OPEN", go.s(go.GO_ZERO_TIME), id="open-zero-time.Time"),
        pytest.param("DEFAULTED", go.s(go.GO_ZERO_TIME), id="defaulted-zero-time.Time"),
        pytest.param("OPEN", go.null(), id="open-nil-*time.Time"),
        pytest.param("OPEN", go.s(""), id="open-empty-string"),
    ],
)
def test_a_go_loan_with_unset_fields_reads_them_as_nothing(status: str, completed: Any) -> None:
    """A zero ``time.Time`` completion date, nil applications: nothing, not year 1."""
    paid = go.GoPayment("pay-1", 5_250, "2026-01-19T12:00:00Z")
    book = go.GoLoanBook(
        status=status,
        installments=(go.GoInstallment(payments=(paid,)), go.GoInstallment()),
        completed=completed,
        account_last_four="",
    )
    root, *children = (deserialize(item) for item in go.go_loan_book(book))
    assert children[1]["loc_applications"] is None  # MarshalMap's nil slice
    payments = [deserialize(item) for item in go.library_payments(book)]
    loan = codecs.decode_loan(root, [*children, *payments])
    assert (loan.completion_date, loan.account_last_four) == (None, None)
    assert loan.installments[1].applications == []
    encoded = codecs.encode_loan(loan, shards=1)[0]
    assert "loc_completion_date" not in encoded  # so an unchanged save keeps the Go value


@pytest.mark.parametrize("cadence", [pytest.param("", id="no-cadence"), "biweekly"])
def test_a_go_rejection_with_a_nil_schedule_reads_as_one_without_terms(cadence: str) -> None:
    item = deserialize(
        go.go_loan_application(status="REJECTED", adverse_actions=["X"], cadence=cadence)
    )
    assert item["loc_installment_schedule"] is None  # MarshalMap's nil slice
    application = codecs.decode_loan_application(item)
    assert (application.proposed_schedule, application.agreement_key) == ((), None)
    assert (application.loan_number, application.fee_type) == (None, None)
    assert application.repayment_cadence is RepaymentCadence.BIWEEKLY
    for status in ("APPROVED", "ABANDONED"):  # an offer always had a cadence: none is refused
        offer = deserialize(go.go_loan_application(status=status, cadence=""))
        with pytest.raises(InvariantViolation, match="loc_repayment_cadence"):
            codecs.decode_loan_application(offer)


_moments = st.datetimes(
    # hypothesis takes naive bounds and adds the zone itself
    min_value=dt.datetime(2020, 1, 1),  # noqa: DTZ001 - naive by hypothesis's contract
    max_value=dt.datetime(2040, 1, 1),  # noqa: DTZ001 - same
    timezones=st.just(UTC),
)
_words = st.text("abcdefghij-:_09", min_size=1, max_size=12)


@st.composite
def intents(draw: st.DrawFn) -> TransferIntent:
    """Transfer intents in any state, with held settlement events and events to publish."""
    intent_id = draw(_words)
    intent = TransferIntent(
        intent_id=intent_id,
        user_id=draw(_words),
        kind=draw(st.sampled_from(IntentKind)),
        account_id=draw(_words),
        item_id=draw(st.just("") | _words),
        direction=draw(st.sampled_from(Direction)),
        amount=draw(st.integers(1, 10**9)),
        rails=tuple(draw(st.lists(st.sampled_from(Rail), min_size=1, max_size=3, unique=True))),
        fingerprint=draw(_words),
        request_key=draw(_words),
        created_at=draw(_moments),
        updated_at=draw(_moments),
        status=draw(st.sampled_from(IntentStatus)),
        accepted_rail=draw(st.none() | st.sampled_from(Rail)),
        confirmation_id=draw(st.just("") | _words),
        outcome=draw(st.just("") | _words),
        version=draw(st.integers(0, 10**6)),
    )
    for number in range(draw(st.integers(0, 3))):
        rail = draw(st.sampled_from(Rail))
        intent.held_events.append(
            SettlementEvent(
                event_id=f"evt-{number}",
                idempotency_key=intent.transfer_key(rail),
                confirmation_id=draw(_words),
                rail=rail,
                outcome=draw(st.sampled_from(SettlementOutcome)),
                occurred_at=draw(_moments),
                return_code=draw(st.sampled_from(["", "R01", "R10"])),
            )
        )
    values = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=8)
    intent.to_publish = draw(
        st.lists(
            st.builds(
                DomainEvent,
                st.sampled_from(EventType),
                _words,
                _words,
                st.dates(dt.date(2020, 1, 1), dt.date(2040, 1, 1)),
                st.dictionaries(_words, values, max_size=3),
            ),
            max_size=3,
        )
    )
    return intent


@settings(max_examples=60)
@given(intents(), st.integers(1, 4))
def test_an_intent_round_trips_in_every_state(intent: TransferIntent, shards: int) -> None:
    (item,) = wire([codecs.encode_intent(intent, shards=shards)])
    assert same_fields(intent, codecs.decode_intent(item)) == []
    assert ("GSI2PK" in item) is intent.is_open
    assert ("ttl" in item) is not intent.is_open


def test_a_finished_intent_expires_its_retention_after_its_last_change() -> None:
    intent = next(value for shape, value in EXAMPLES if shape is codecs.INTENT)
    assert isinstance(intent, TransferIntent)
    finished = copy.copy(intent)
    finished.to_publish = []
    finished.held_events = []
    item = codecs.encode_intent(finished, shards=1)
    assert item["ttl"] == int((finished.updated_at + INTENT_RETENTION).timestamp())
    assert "GSI2PK" not in item
    assert (item["PK"], item["SK"]) == ("INTENT#manual:loan-1:key-1", "INTENT")
    item = codecs.encode_intent(intent, shards=1)
    assert (item["GSI2PK"], item["GSI2SK"]) == (
        "INTENT#OPEN",
        "2026-01-05T15:00:00.000000Z#manual:loan-1:key-1",
    )
    assert "ttl" not in item


def require_survival(stored: attrs.AttrsInstance, read_back: object) -> None:
    """A state machine's invariant fails on every field that storage lost or changed."""
    differ = same_fields(stored, read_back)
    if differ:
        raise AssertionError(f"fields lost in storage: {differ}")


class LoanLivesInStorage(LoanLifecycle):
    """Every state a loan reaches in its random life reads back equal from its items."""

    @invariant()
    def survives_storage(self) -> None:
        require_survival(self.loan, stored_loan(self.loan))


class LineLivesInStorage(CreditLineLifecycle):
    """Every state a line reaches (draws, payments, bills, statements) reads back equal."""

    @invariant()
    def survives_storage(self) -> None:
        require_survival(self.line, stored_line(self.line))
        statement = self.line.last_statement
        if statement is not None:
            (item,) = wire([codecs.encode_statement(statement)])
            if codecs.decode_statement(item) != statement:
                raise AssertionError("the statement changed in storage")


TestLoanLivesInStorage = LoanLivesInStorage.TestCase
TestLoanLivesInStorage.settings = settings(max_examples=25, stateful_step_count=25)
TestLineLivesInStorage = LineLivesInStorage.TestCase
TestLineLivesInStorage.settings = settings(max_examples=20, stateful_step_count=25)


# --- field by field ------------------------------------------------------------------------


def _sample(kind: Any) -> Any:
    """Some value of `kind`, for a field that is None."""
    samples: dict[Any, Any] = {
        str: "x",
        int: 7,
        bool: True,
        Decimal: Decimal("1.5"),
        dt.date: dt.date(2026, 2, 3),
        dt.datetime: dt.datetime(2026, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
        ConsumerReport: REPORT,
        LateFeeWaiver: LateFeeWaiver(
            amount=263,
            effective_on=dt.date(2026, 1, 25),
            waived_on=dt.date(2026, 1, 27),
            reason="goodwill",
            idempotency_key="waive-1",
        ),
        # Every field of the refund map set (no refund is both cancelled and paid out:
        # this checks storage, not the rules), so each is written and read back.
        RefundDue: RefundDue(
            payment_id="p",
            amount=7,
            recorded_on=dt.date(2026, 2, 3),
            status=RefundStatus.PAID,
            cancelled_on=dt.date(2026, 2, 4),
            paid_on=dt.date(2026, 2, 5),
            paid_reference="check 1001",
            paid_booked_on=dt.date(2026, 2, 6),
            applied=3,
            paid_amount=4,
        ),
    }
    if kind in samples:
        return samples[kind]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(iter(kind))
    raise AssertionError(f"no sample value for {kind!r}: teach this test the new type")


def _other(value: object, kind: Any) -> Any:
    """A value of `kind` different from `value`, or None when the type is a container."""
    if typing.get_origin(kind) in {typing.Union, types.UnionType}:
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _sample(options[0]) if value is None else _other(value, options[0])
    if typing.get_origin(kind) in {list, tuple, dict} or attrs.has(kind):
        return None  # nested values: the lifecycle round trips cover them
    changes: list[tuple[type, Any]] = [
        (bool, lambda v: not v),
        (int, lambda v: v + 1),
        (str, lambda v: v + "x"),
        (Decimal, lambda v: v + Decimal("0.01")),
        (dt.datetime, lambda v: v + dt.timedelta(microseconds=1)),
        (dt.date, lambda v: v + dt.timedelta(days=1)),
        (dt.timedelta, lambda v: v + dt.timedelta(seconds=1)),
    ]
    for cls, change in changes:
        if kind is cls:
            return change(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        others = [member for member in kind if member is not value]
        return others[0] if others else None
    raise AssertionError(f"no way to change a {kind!r}: teach this test the new type")


def _examples() -> list[tuple[Shape, object]]:
    """One instance of every stored class, in a state with most fields set."""
    loan = make_loan()
    loan.apply_payment(
        "pay-1", 6_000, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 10)
    )
    approved = LoanApplication.approve(
        product=loan.product,
        user_id="user-1",
        application_id="app-9",
        loan_number="FM-000009",
        loan_amount=30_000,
        fee=OriginationFee.fixed(100),
        now=dt.datetime(2026, 1, 5, 15, tzinfo=UTC),
    )
    product = CreditLineProduct()
    line_application = line_offer(dt.datetime(2026, 1, 5, 15, tzinfo=UTC), application_id="lapp-1")
    line = opened_line(line_application, cycle_day=5)
    line_strategies.disbursed_draw(line, draw_id="draw-1", amount=10_000, on=dt.date(2026, 1, 6))
    statement = line.bill_cycle(
        close_date=dt.date(2026, 2, 5), today=dt.date(2026, 2, 5), product=product
    )
    assert statement is not None
    payment = line.submit_payment(
        payment_id="lpay-1", amount=500, rail=Rail.ACH, on=dt.date(2026, 2, 6)
    )
    record = AuditRecord(
        "rec-1", loan.outbox.changes[0], "api", "req-1", dt.datetime(2026, 1, 5, 16, tzinfo=UTC)
    )
    made = dt.datetime(2026, 1, 5, 15, tzinfo=UTC)
    intent = make_intent(created_at=made)
    intent.hold(
        SettlementEvent(
            event_id="evt-1",
            idempotency_key=intent.transfer_key(Rail.ACH),
            confirmation_id="conf-1",
            rail=Rail.ACH,
            outcome=SettlementOutcome.COMPLETED,
            occurred_at=made,
        ),
        now=made,
    )
    intent.book(
        rail=Rail.ACH,
        confirmation_id="conf-1",
        outcome="pay-1",
        events=[DomainEvent(EventType.PAYMENT_SUCCEEDED, "user-1", "pay-1", made.date())],
        now=made,
    )
    dispute = BillingDispute(
        dispute_id="dsp-1",
        line_id=line.line_id,
        user_id=line.user_id,
        statement_date=dt.date(2026, 2, 5),
        charge=DisputedCharge.DRAW,
        charge_ref="draw-1",
        charge_on=dt.date(2026, 1, 6),
        amount=1_000,
        description="not my draw",
        received_on=dt.date(2026, 2, 9),
        resolve_by=dt.date(2026, 4, 4),
        status=DisputeStatus.RESOLVED_ERROR,
        resolved_on=dt.date(2026, 2, 10),
        explanation="a duplicate charge",
        credited=1_010,
        finance_charge=10,
        owed_again_on=dt.date(2026, 3, 3),
    )
    fee_waiver = LineLateFeeWaiver(
        line_id=line.line_id,
        user_id=line.user_id,
        late_fee_cycle=dt.date(2026, 2, 5),
        fee_reference=f"{line.line_id}:2026-02-05:late_fee",
        amount=500,
        effective_on=dt.date(2026, 3, 1),
        waived_on=dt.date(2026, 3, 2),
        reason="goodwill",
        idempotency_key="waive-1",
    )
    return [
        (codecs.LOAN, loan),
        (codecs.INSTALLMENT, loan.installments[0]),
        (codecs.LOAN_PAYMENT, loan.payments["pay-1"]),
        (codecs.LOAN_APPLICATION, approved),
        (codecs.LINE, line),
        (codecs.DRAW, line.draws["draw-1"]),
        (codecs.LINE_PAYMENT, payment),
        (codecs.DISPUTE, dispute),
        (codecs.FEE_WAIVER, fee_waiver),
        (codecs.LINE_APPLICATION, line_application),
        (codecs.STATEMENT, statement),
        (codecs.JOURNAL_ENTRY, loan.outbox.entries[0]),
        (codecs.AUDIT_RECORD, record),
        (codecs.INTENT, intent),
    ]


EXAMPLES = _examples()


T = TypeVar("T")


def _example(shape: Shape, cls: type[T]) -> T:
    """The example of `shape`'s class."""
    value = next(value for s, value in EXAMPLES if s is shape)
    assert isinstance(value, cls)
    return value


def test_every_stored_class_has_an_example() -> None:
    assert {shape.cls for shape, _ in EXAMPLES} == {shape.cls for shape in codecs.SHAPES}


@pytest.mark.parametrize(
    ("shape", "field"),
    [(shape, field.name) for shape, _ in EXAMPLES for field in shape.stored_fields()],
    ids=lambda value: value if isinstance(value, str) else value.cls.__name__,
)
def test_every_field_is_stored(shape: Shape, field: str) -> None:
    """Change one field alone; the item must carry it and give it back."""
    example = next(value for s, value in EXAMPLES if s is shape)
    kind = attrs.fields_dict(shape.cls)[field].type
    new = _other(getattr(example, field), kind)
    changed = copy.copy(example)
    if new is not None:
        object.__setattr__(changed, field, new)  # bypasses frozen classes and validation
    (item,) = wire([shape.encode(changed)])
    values = shape.decode(item, where="test")
    assert values.get(field, attrs.fields_dict(shape.cls)[field].default) == getattr(changed, field)
    assert new is None or shape.attribute(field) in item


def test_attribute_names_follow_the_rule_and_the_seed() -> None:
    assert codecs.LOAN.attribute("loan_amount") == "loc_loan_amount"
    assert codecs.LOAN.attribute("application_id") == "loc_loan_application_id"
    assert codecs.LOAN.attribute("autopay_enabled") == "auto_pay_enabled"
    assert codecs.LOAN.attribute("created_at") == "loc_created_date"
    assert codecs.INSTALLMENT.attribute("updated_at") == "loc_last_updated"
    assert codecs.LOAN_APPLICATION.attribute("proposed_schedule") == "loc_installment_schedule"
    assert codecs.INSTALLMENT.attribute("collection_attempts") == "loc_collection_attempts"
    with pytest.raises(InvariantViolation, match="has no fields"):
        Shape(Loan, names={"renamed_away": "loc_x"})


# --- values ----------------------------------------------------------------------------


def test_timestamps_are_rfc3339_utc_and_read_from_any_offset() -> None:
    whole = dt.datetime(2024, 1, 15, 12, tzinfo=UTC)
    assert format_timestamp(whole) == "2024-01-15T12:00:00Z"
    assert format_timestamp(whole.replace(microsecond=5)) == "2024-01-15T12:00:00.000005Z"
    assert parse_timestamp("2024-01-15T14:00:00+02:00") == whole
    assert parse_timestamp("2024-01-15T12:00:00.123456789Z").microsecond == 123_456
    with pytest.raises(ValueError, match="no offset"):
        parse_timestamp("2024-01-15T12:00:00")
    assert parse_date("2024-01-15") == dt.date(2024, 1, 15)
    assert parse_date("2024-01-15T23:30:00-05:00") == dt.date(2024, 1, 16)


def test_cents_must_be_whole_numbers_and_booleans_booleans() -> None:
    loan = make_loan()
    root, *children = wire(codecs.encode_loan(loan, shards=1))
    with pytest.raises(InvariantViolation, match="loc_loan_amount is malformed"):
        codecs.decode_loan({**root, "loc_loan_amount": Decimal("30000.5")}, children)
    with pytest.raises(InvariantViolation, match="auto_pay_enabled is malformed"):
        codecs.decode_loan({**root, "auto_pay_enabled": Decimal(1)}, children)
    with pytest.raises(InvariantViolation, match="loc_loan_number is missing"):
        codecs.decode_loan({k: v for k, v in root.items() if k != "loc_loan_number"}, children)
    first, *others = children
    with pytest.raises(InvariantViolation, match="INSTALLMENT#loan-1:1: the attribute loc_status"):
        codecs.decode_loan(root, [{k: v for k, v in first.items() if k != "loc_status"}, *others])


def test_a_stored_outstanding_that_disagrees_with_the_applications_is_refused() -> None:
    loan = make_loan()
    loan.apply_payment(
        "pay-1", 1_000, process=Process.MANUAL, rail=Rail.ACH, today=dt.date(2026, 1, 6)
    )
    root, first, *others = wire(codecs.encode_loan(loan, shards=1))
    first["loc_outstanding_balance"] = first["loc_total_amount"]  # as if never paid
    with pytest.raises(
        InvariantViolation,
        match=r"stored loan item USER#user-1/LOAN#loan-1.*"
        r"outstanding_balance 5250 != total_amount 5250 - applications 1000",
    ):
        codecs.decode_loan(root, [first, *others])


def test_a_closed_line_leaves_the_cycle_day_index() -> None:
    line = copy.deepcopy(next(value for shape, value in EXAMPLES if shape is codecs.LINE))
    assert isinstance(line, CreditLine)
    (root, *_) = codecs.encode_line(line, shards=1)
    assert root["GSI1PK"] == f"LOC#CYCLEDAY#{line.cycle_day:02d}"
    line.status = LineStatus.CLOSED
    (root, *_) = codecs.encode_line(line, shards=1)
    assert "GSI1PK" not in root


def test_a_corrected_line_round_trips_with_its_adjustment_lines() -> None:
    """A return after the next statement leaves ADJUSTMENT activity the table must keep."""
    books = Books(bare_line(dt.date(2026, 4, 1), apr=Decimal(35)))
    disbursed_draw(books.line, draw_id="d1", amount=50_000, on=dt.date(2026, 4, 1))
    books.go_to(dt.date(2026, 4, 16))
    books.line.submit_payment(payment_id="p1", amount=20_000, rail=Rail.ACH, on=books.day)
    books.go_to(dt.date(2026, 5, 3))  # past the close: the return corrects a billed cycle
    books.returned("p1", dt.date(2026, 5, 3))
    line = books.line
    assert any(item.kind is ActivityKind.ADJUSTMENT for item in line.cycle_activity)
    assert same_fields(line, stored_line(line)) == []


def test_a_line_round_trips_its_billing_disputes_open_and_resolved() -> None:
    """Each dispute is a child item (``LOC#<line>#DISPUTE#<id>``); the line item only marks
    that they are (``loc_disputes``), and a line without any carries no mark."""
    product = CreditLineProduct()
    line = opened_line(line_offer(dt.datetime(2026, 1, 5, 15, tzinfo=UTC)), cycle_day=5)
    disbursed_draw(line, draw_id="d1", amount=30_000, on=dt.date(2026, 1, 6))
    statement = line.bill_cycle(
        close_date=dt.date(2026, 2, 5), today=dt.date(2026, 2, 5), product=product
    )
    assert statement is not None
    for n, amount in enumerate((1_000, 2_000)):
        line.dispute_billing_error(
            dispute_id=f"dsp-{n}",
            statement=statement,
            charge=DisputedCharge.DRAW,
            draw_id="d1",
            amount=amount,
            description="not my draw",
            received_on=dt.date(2026, 2, 9),
            product=product,
        )
    line.resolve_billing_dispute(
        dispute_id="dsp-1",
        error_found=True,
        explanation="a duplicate charge",
        today=dt.date(2026, 2, 10),
        product=product,
        posted=(),  # the line's entries are still in its outbox: posted with it
    )
    stored = stored_line(line)
    assert same_fields(line, stored) == []
    assert [d.status.value for d in stored.disputes.values()] == ["OPEN", "RESOLVED_ERROR"]
    root, *children = wire(codecs.encode_line(line, shards=1))
    assert root[codecs.LINE.attribute("disputes")] == codecs.CHILDREN_MARK
    assert [c["SK"] for c in children if "#DISPUTE#" in c["SK"]] == [
        f"LOC#{line.line_id}#DISPUTE#dsp-0",
        f"LOC#{line.line_id}#DISPUTE#dsp-1",
    ]
    line.disputes = {}
    (root, *_) = codecs.encode_line(line, shards=1)
    assert codecs.LINE.attribute("disputes") not in root


def test_a_line_round_trips_its_late_fee_waivers() -> None:
    """Each waiver is a child item (``LOC#<line>#FEEWAIVER#<cycle>``), read back keyed by
    the fee's reference; the line item marks that they are (``loc_late_fee_waivers``)."""
    product = CreditLineProduct()
    line = opened_line(line_offer(dt.datetime(2026, 1, 5, 15, tzinfo=UTC)), cycle_day=5)
    disbursed_draw(line, draw_id="d1", amount=30_000, on=dt.date(2026, 1, 6))
    statement = line.bill_cycle(
        close_date=dt.date(2026, 2, 5), today=dt.date(2026, 2, 5), product=product
    )
    assert statement is not None
    late = statement.due_date + dt.timedelta(days=1)
    assert line.run_overdue(today=late, product=product).late_fee
    line.waive_late_fee(
        late_fee_cycle=dt.date(2026, 2, 5),
        reason="goodwill",
        idempotency_key="waive-1",
        today=late + dt.timedelta(days=1),
        product=product,
        posted=(),  # the line's entries are still in its outbox: posted with it
    )
    stored = stored_line(line)
    assert same_fields(line, stored) == []
    assert [w.amount for w in stored.late_fee_waivers.values()] == [500]
    root, *children = wire(codecs.encode_line(line, shards=1))
    assert root[codecs.LINE.attribute("late_fee_waivers")] == codecs.CHILDREN_MARK
    assert [c["SK"] for c in children if "#FEEWAIVER#" in c["SK"]] == [
        f"LOC#{line.line_id}#FEEWAIVER#2026-02-05"
    ]


def test_disputes_and_waivers_the_earlier_release_kept_on_the_line_item_are_read() -> None:
    """The earlier release's line item holds them as maps (each field as its `Shape` wrote
    it); a child item written since wins over its entry there."""
    line = copy.deepcopy(_example(codecs.LINE, CreditLine))
    dispute = copy.copy(_example(codecs.DISPUTE, BillingDispute))
    fee_waiver = _example(codecs.FEE_WAIVER, LineLateFeeWaiver)
    line.disputes = {dispute.dispute_id: dispute}
    line.late_fee_waivers = {fee_waiver.fee_reference: fee_waiver}
    root, *children = wire(codecs.encode_line(line, shards=1))
    (earlier,) = wire(
        [
            {
                **root,
                "loc_disputes": converter.unstructure(line.disputes),
                "loc_late_fee_waivers": converter.unstructure(line.late_fee_waivers),
            }
        ]
    )
    draws_and_payments = [c for c in children if c["SK"].split("#")[2] in {"DRAW", "PAYMENT"}]

    assert same_fields(line, codecs.decode_line(earlier, draws_and_payments)) == []
    dispute.explanation = "written since"
    newer = [c for c in wire(codecs.encode_line(line, shards=1)) if "#DISPUTE#" in c["SK"]]
    read = codecs.decode_line(earlier, [*draws_and_payments, *newer])
    assert read.disputes["dsp-1"].explanation == "written since"


def test_the_earlier_release_refuses_a_line_whose_records_are_child_items() -> None:
    """Its decoder (the line shape with disputes and waivers on the item) refuses the mark,
    writing nothing, rather than serve the line without them and delete their items as
    children it does not know (docs/deploy.md, rolling deploys)."""
    earlier_shape = Shape(
        CreditLine, skip=frozenset({"draws", "payments", "outbox"}), required=frozenset({"status"})
    )
    line = copy.deepcopy(_example(codecs.LINE, CreditLine))
    line.disputes = {"dsp-1": _example(codecs.DISPUTE, BillingDispute)}
    (root, *_) = wire(codecs.encode_line(line, shards=1))
    with pytest.raises(InvariantViolation, match="loc_disputes is malformed"):
        earlier_shape.decode(root, where="the earlier release")
