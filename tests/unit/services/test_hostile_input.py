"""Hostile input: whatever a caller puts in a command, only library errors come out.

A hypothesis fuzz builds every command an entrypoint can send, and every settlement event,
with hostile values (wrong types, empty, huge, unicode, ``#``, ``:``) in one or more
fields. Building either refuses with `InvalidRequest` naming a hostile field, or succeeds
(the value was valid after all) and the command goes through the bus to a deployment
where it names nobody's records: then only a `LocError` may come out, and nothing may
change (no commit, no journal entry, no rail call, no notification, no claim).

User ids with ``:`` (an identity provider's ``us-east-1:4f9a…``) are valid: a loan and a
line of such a user go through disbursement, payment and their settlements, no alert.
"""

import contextlib
import datetime as dt
import functools
import math
from typing import Any, cast

import attrs
import pytest
from deployment import LINES_OPENED, Deployment
from hypothesis import given, settings
from hypothesis import strategies as st

from loc_core.audit import Process
from loc_core.bookkeeping import Product
from loc_core.creditline import DisputedCharge
from loc_core.errors import InvalidRequest, LocError
from loc_core.payments import PaymentStatus, Rail, SettlementOutcome
from loc_core.ports import SettlementEvent
from loc_core.services import commands
from loc_core.services.commands import DocumentKind, SettleTransfer
from loc_core.services.messagebus import Command

PROVIDER_ID = "us-east-1:4f9a0c2e-7b1d-4e8f-9a3b-2c5d6e7f8a9b"
"""A user id as Amazon Cognito gives it: region, ``:``, a UUID."""
GHOST = {
    "user_id": "ghost-user",
    "loan_id": "ghost-loan",
    "line_id": "ghost-line",
    "application_id": "ghost-application",
    "installment_id": "ghost-installment",
    "payment_id": "ghost-payment",
    "amount": 5_000,
    "requested_amount": 30_000,
    "idempotency_key": "ghost-key",
    "due_date": dt.date(2026, 3, 20),
    "effective_on": dt.date(2026, 3, 5),
    "statement_date": dt.date(2026, 3, 5),
    "document": DocumentKind.STATEMENT,
    "subject_id": "ghost-line",
    "enabled": True,
    "autopay_enabled": True,
    "reason": "fuzz",
    "cycle_day": 5,
    "catch_up_days": 0,
    "as_of": None,
    "cursor": 'lines:["~", "~"]',
    "page_size": 10,
    "hand_on": False,
    "job": "MarkOverdueLines",
    "worker_id": "fuzz-worker",
    "removed": None,
    "removed_item": None,
    "event_id": "ghost-event",
    "confirmation_id": "ach-ghost",
    "rail": Rail.ACH,
    "outcome": SettlementOutcome.COMPLETED,
    "occurred_at": LINES_OPENED,
    "return_code": "",
    "status": None,
    "entity": "loan",
    "entity_id": "ghost-entity",
    "key": "agreements/ghost-user/ghost-application.pdf",
    "limit": 10,
    "process": Process.CURE,
    "event": None,
    "product": Product.INSTALLMENT,
    "intent_id": "manual:ghost-loan:ghost-key",
    "moved": True,
    "account_id": "ghost-loan",
    "transfer_key": "manual:ghost-loan:ghost-key:ach",
    "description": "fuzz",
    "charge": DisputedCharge.INTEREST,
    "draw_id": None,
    "dispute_id": "ghost-dispute",
    "error_found": False,
    "explanation": "fuzz",
    "late_fee_cycle": dt.date(2026, 4, 5),
}
"""Valid values naming records nobody has: a command built from them changes nothing."""

HOSTILE = st.one_of(
    st.sampled_from(
        [
            None,
            "",
            "#",
            "USER#ghost-user",
            "ghost-user#LOAN#x",
            ":",
            "a:b:c",
            PROVIDER_ID,
            "x" * 129,
            "k" * 256,
            "jürgen",
            "\x00",
            "ghost user",
            0,
            -1,
            10**12,
            2**64,
            1.5,
            math.nan,
            math.inf,
            True,
            False,
            b"ghost",
            [],
            {},
            "completed",
            "ach",
            Rail.ACH,
            SettlementOutcome.RETURNED,
            dt.date(2026, 3, 5),
            dt.datetime(2026, 3, 5, 14),  # noqa: DTZ001 - a naive timestamp, on purpose
            dt.datetime(2026, 3, 5, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2026-03-05T14:00:00Z",
        ]
    ),
    st.text(max_size=300),
    st.text(alphabet="abc:#@.-_", min_size=1, max_size=20),
    st.integers(),
    st.floats(),
    st.binary(max_size=10),
)


def _sendable() -> list[type[Command[Any]]]:
    """Every command in `commands` that has fields (the jobs without any take no input)."""
    found = [getattr(commands, name) for name in commands.__all__]
    return [
        cls
        for cls in found
        if isinstance(cls, type)
        and issubclass(cls, Command)
        and attrs.fields(cast("Any", cls))
        # its valid "no cursor" is the whole job: tests/unit/services/test_reconciling.py
        and cls is not commands.EnqueueReconciliations
    ]


@functools.cache
def _world() -> Deployment:
    """One deployment for the whole fuzz (no example may change it): user-1 owes on a loan
    and holds a line with a draw, so real records sit next to the ghosts."""
    world = Deployment.build(now=LINES_OPENED)
    world.open_loan()
    line = world.open_line("user-2")
    world.draw(line, 10_000)
    world.due()  # marks the due job's days run (its catch-up's record), as every day has
    return world


def _snapshot(world: Deployment) -> tuple[object, ...]:
    return (
        world.database.commits,
        world.database.ledger.digest(),
        len(world.rails.calls),
        len(world.notifier.sent),
        len(world.idempotency),
        world.queue.receive(max_messages=10, visibility=dt.timedelta(0)),
    )


GHOST_OF: dict[type, dict[str, object]] = {
    commands.RunJobPage: {"cursor": "ghost-user/ghost-line"},  # the shape MarkOverdueLines gives
    commands.RecordRefundPaid: {
        "paid_on": dt.date(2026, 3, 5),
        "reference": "ghost check",
        "before_settlement": False,
    },
}
"""Where a command's valid values differ from `GHOST`'s."""

COUPLED: dict[type, dict[str, set[str]]] = {
    # `moved` says whether a rail and a confirmation must be named: a hostile `moved` next
    # to the ghost's rail is refused by naming the rail it does not fit.
    commands.SettleTransferByHand: {"moved": {"rail", "confirmation_id"}},
}
"""Fields whose hostile value is refused under the name of another field it constrains."""


def _fuzz(kind: type, data: st.DataObject) -> tuple[object | None, set[str]]:
    """Build `kind` from `GHOST` with hostile values in some fields; None when refused."""
    names = [field.name for field in attrs.fields(kind)]
    hostile = data.draw(st.sets(st.sampled_from(names), min_size=1), label="hostile fields")
    ghost = {**GHOST, **GHOST_OF.get(kind, {})}
    values = {
        name: data.draw(HOSTILE, label=name) if name in hostile else ghost[name] for name in names
    }
    refused: InvalidRequest | None = None
    try:
        built = kind(**values)
    except InvalidRequest as error:
        refused = error
    if refused is None:
        return built, hostile
    coupled = COUPLED.get(kind, {})
    blamed = hostile.union(*(coupled.get(name, set()) for name in hostile))
    assert refused.key in blamed
    return None, hostile


@pytest.mark.parametrize("kind", _sendable(), ids=lambda kind: kind.__name__)
@settings(max_examples=150)
@given(data=st.data())
def test_a_hostile_command_raises_only_library_errors_and_changes_nothing(
    kind: type[Command[Any]], data: st.DataObject
) -> None:
    world = _world()
    before = _snapshot(world)
    command: object | None
    if kind is SettleTransfer:
        event, _ = _fuzz(SettlementEvent, data)
        command = None if event is None else SettleTransfer(cast("SettlementEvent", event))
    else:
        command, _ = _fuzz(kind, data)
    if command is not None:
        with contextlib.suppress(LocError):
            world.bus.handle(cast("Command[object]", command))
    assert _snapshot(world) == before


def test_a_user_id_with_a_colon_borrows_pays_and_settles_a_loan_without_alerts() -> None:
    world = Deployment.build()
    loan = world.open_loan(PROVIDER_ID)
    assert loan.user_id == PROVIDER_ID
    world.settle_due()  # the disbursement's completion finds its loan
    world.at(dt.date(2026, 1, 12))
    receipt = world.pay_loan(loan, 5_250)
    world.at(dt.date(2026, 1, 16))
    world.settle_due()
    paid = world.loan(loan.loan_id, PROVIDER_ID).payments[receipt.payment_id]
    assert paid.status is PaymentStatus.COMPLETED
    assert world.alerts() == []


def test_a_user_id_with_a_colon_draws_on_a_line_and_the_draw_settles_without_alerts() -> None:
    world = Deployment.build(now=LINES_OPENED)
    line = world.open_line(PROVIDER_ID)
    draw = world.draw(line, 10_000, key="draw:with:colons")
    world.at(dt.date(2026, 3, 9))
    assert world.settle_due()  # the draw's transfer settled and was recognised
    assert world.line(line).draws[draw.draw_id].rail is not None
    assert world.alerts() == []


def test_the_fuzz_covers_every_command_with_input() -> None:
    """The fuzz must not silently skip a command an entrypoint can send with values."""
    assert {kind.__name__ for kind in _sendable()} >= {
        "MakePayment",
        "PayLine",
        "DrawFromLine",
        "ApplyForLoan",
        "AcceptOffer",
        "SettleTransfer",
    }
