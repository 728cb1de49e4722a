"""Commands and settlement events refuse out-of-bounds fields when they are built.

Each rule of `loc_core.validation`, on the command or event a caller would really build:
the error is an `InvalidRequest` whose `key` names the field.
"""

import datetime as dt
from typing import Any

import attrs
import pytest

from loc_core.errors import InvalidRequest
from loc_core.payments import Rail, SettlementOutcome
from loc_core.ports import SettlementEvent
from loc_core.services import commands
from loc_core.services.commands import (
    AcceptLineOffer,
    AcceptOffer,
    ApplyForLoan,
    BillClosedCycles,
    CloseLine,
    CollectInstallment,
    DrawFromLine,
    GetLineStatement,
    MakePayment,
    PayLine,
    SetAutopay,
    SetLineAutopay,
    SettleTransfer,
)
from loc_core.services.messagebus import Command
from loc_core.validation import (
    MAX_AMOUNT,
    MAX_ID_LENGTH,
    MAX_KEY_LENGTH,
    from_key_part,
    key_part,
)

WHEN = dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


def hostile(value: object) -> Any:
    """`value`, typed so that a test can hand a wrong type to a command on purpose."""
    return value


def payment(**changes: Any) -> MakePayment:
    fields: dict[str, Any] = {
        "user_id": "user-1",
        "loan_id": "loan-1",
        "amount": 5_250,
        "idempotency_key": "pay-1",
    }
    return MakePayment(**(fields | changes))


def event(**changes: Any) -> SettlementEvent:
    fields: dict[str, Any] = {
        "event_id": "evt-1",
        "idempotency_key": "manual:loan-1:pay-1:ach",
        "confirmation_id": "ach-00000001",
        "rail": Rail.ACH,
        "outcome": SettlementOutcome.COMPLETED,
        "occurred_at": WHEN,
    }
    return SettlementEvent(**(fields | changes))


def refused(field: str) -> pytest.RaisesExc[InvalidRequest]:
    return pytest.raises(InvalidRequest, match=rf"^{field} must be")


BAD_IDS = [
    pytest.param(None, id="None"),
    pytest.param("", id="empty"),
    pytest.param("user#1", id="hash"),
    pytest.param("USER#alice", id="key-prefix"),
    pytest.param("u" * (MAX_ID_LENGTH + 1), id="too-long"),
    pytest.param("jürgen", id="unicode"),
    pytest.param("user 1", id="space"),
    pytest.param("user-1\n", id="newline"),
    pytest.param(42, id="int"),
    pytest.param(b"user-1", id="bytes"),
]


@pytest.mark.parametrize("value", BAD_IDS)
@pytest.mark.parametrize("field", ["user_id", "loan_id"])
def test_an_id_out_of_bounds_is_refused_naming_the_field(field: str, value: object) -> None:
    with refused(field) as caught:
        payment(**{field: value})
    assert caught.value.key == field


def test_an_id_may_hold_the_characters_identity_providers_use() -> None:
    longest = "u" * MAX_ID_LENGTH
    assert payment(user_id="us-east-1:4f9a-b_c.d@e").user_id == "us-east-1:4f9a-b_c.d@e"
    assert payment(user_id=longest).user_id == longest


@pytest.mark.parametrize(
    "value",
    [None, "", "pay#1", "k" * (MAX_KEY_LENGTH + 1), "clé", 7],
    ids=["None", "empty", "hash", "too-long", "unicode", "int"],
)
def test_an_idempotency_key_is_required_bounded_and_storable(value: object) -> None:
    with refused("idempotency_key"):
        payment(idempotency_key=value)
    assert payment(idempotency_key="k" * MAX_KEY_LENGTH).idempotency_key == "k" * MAX_KEY_LENGTH


def test_a_missing_key_cannot_build_a_command() -> None:
    with pytest.raises(TypeError, match="idempotency_key"):
        MakePayment("user-1", "loan-1", 5_250)  # type: ignore[call-arg] # the point of the test


@pytest.mark.parametrize(
    "value",
    [1.5, 100.0, True, False, "5250", None, 0, -1, MAX_AMOUNT + 1],
    ids=["float", "whole-float", "True", "False", "str", "None", "zero", "negative", "huge"],
)
def test_an_amount_is_whole_cents_within_bounds(value: object) -> None:
    with refused("amount"):
        payment(amount=value)
    with refused("amount"):
        PayLine("user-1", "line-1", value, "pay-1")  # type: ignore[arg-type] # hostile on purpose
    with refused("amount"):
        DrawFromLine("user-1", "line-1", value, "draw-1")  # type: ignore[arg-type] # hostile
    with refused("requested_amount"):
        ApplyForLoan("user-1", value, "apply-1")  # type: ignore[arg-type] # hostile on purpose
    assert payment(amount=MAX_AMOUNT).amount == MAX_AMOUNT
    assert payment(amount=1).amount == 1


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 1, 5, 15),  # noqa: DTZ001 - the naive timestamp under test
        dt.datetime(2026, 1, 5, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        "2026-01-05T15:00:00Z",
        1767625200,
        None,
    ],
    ids=["naive", "new-york", "str", "epoch", "None"],
)
def test_a_settlement_timestamp_is_an_aware_utc_datetime(value: object) -> None:
    with refused("occurred_at"):
        event(occurred_at=value)


@pytest.mark.parametrize("value", ["completed", "COMPLETED", None, 1])
def test_an_outcome_is_an_enum_member_not_its_value(value: object) -> None:
    with refused("outcome"):
        event(outcome=value)


@pytest.mark.parametrize("value", ["ach", None])
def test_a_rail_is_an_enum_member(value: object) -> None:
    with refused("rail"):
        event(rail=value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_id", None),
        ("event_id", "evt#1"),
        ("idempotency_key", None),
        ("idempotency_key", ""),
        ("confirmation_id", None),
        ("return_code", "R" * 501),
    ],
)
def test_a_settlement_event_refuses_missing_or_unsafe_fields(field: str, value: object) -> None:
    with refused(field):
        event(**{field: value})


def test_a_settlement_transfer_carries_a_settlement_event() -> None:
    with refused("event"):
        SettleTransfer({"outcome": "completed"})  # type: ignore[arg-type] # a raw webhook body
    assert SettleTransfer(event()).event == event()


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: AcceptOffer("user-1", "app-1", autopay_enabled=hostile("yes")), "autopay_enabled"),
        (lambda: SetAutopay("user-1", "loan-1", hostile(1)), "enabled"),
        (lambda: SetAutopay("user-1", "loan-1", enabled=True, reason=hostile(None)), "reason"),
        (lambda: SetLineAutopay("user-1", "line-1", hostile("true")), "enabled"),
        (lambda: SetLineAutopay("u", "line#1", enabled=True), "line_id"),
        (lambda: CloseLine("user-1", "line-1", reason="x" * 501), "reason"),
        (lambda: AcceptLineOffer("user-1", "app-1", cycle_day=29), "cycle_day"),
        (lambda: AcceptLineOffer("user-1", "app-1", cycle_day=True), "cycle_day"),
        (lambda: BillClosedCycles(catch_up_days=-1), "catch_up_days"),
        (lambda: GetLineStatement("user-1", "line-1", WHEN), "statement_date"),
        (lambda: CollectInstallment("u", "l", "i", hostile("2026-01-20")), "due_date"),
        (
            lambda: CollectInstallment("u", "l", "i", WHEN.date(), worker_id="w#1"),
            "worker_id",
        ),
    ],
)
def test_flags_texts_counts_and_dates_are_checked_too(build: Any, field: str) -> None:
    with refused(field):
        build()


def _command_classes() -> list[type[Command[Any]]]:
    found = [getattr(commands, name) for name in commands.__all__]
    return [cls for cls in found if isinstance(cls, type) and issubclass(cls, Command)]


@pytest.mark.parametrize("command", _command_classes(), ids=lambda cls: cls.__name__)
def test_every_field_of_every_command_has_a_validator(command: type[Command[Any]]) -> None:
    """A field added later without a validator would let a bad value through: fail here."""
    unchecked = [field.name for field in attrs.fields(hostile(command)) if field.validator is None]
    assert unchecked == []


def test_every_field_of_a_settlement_event_has_a_validator() -> None:
    assert [f.name for f in attrs.fields(SettlementEvent) if f.validator is None] == []


@pytest.mark.parametrize("value", ["user-1", "us-east-1:4f9a", "a:b:c", "@:.", "x" * 128])
def test_a_key_part_round_trips_and_holds_no_separator(value: str) -> None:
    assert ":" not in key_part(value)
    assert from_key_part(key_part(value)) == value


def test_a_key_part_of_an_id_without_a_separator_is_the_id_itself() -> None:
    assert key_part("user-1") == "user-1"
