"""Drawing on a line: hold the credit, then offer the money to the rails in order.

Replaces the seed's draw handler (``draws/``). The PENDING draw is committed before any
rail is called: it holds the available credit, and it is what a retry resumes. The rails
are offered the draw in the order RTP, pinless debit, ACH (`next_rail`); the flag
``loc-rtp-disbursements`` (default on, per user) can switch RTP off. The first rail that
accepts disburses it; a rail that declines, or cannot be reached (`RailUnavailable`: it
took nothing), is recorded on the draw (committed before the next rail is tried), so a
resumed draw never offers the money to it again. A rail failing with its outcome unknown
(any other `ExternalServiceError`, such as a timeout after sending) stops the draw where
it is, PENDING: offering the money to the next rail could pay the borrower twice, so the
error propagates and a retry asks the same rail again with the same key. When no rail is
left the draw FAILS: the hold is released and nothing is owed; when every rail tried was
unreachable, operations get a CRITICAL alert.

Exactly once: the draw id comes from the command (``draw:<user>:<line>:<key>``) and each
transfer's key from the draw (``<draw id>:<rail>``). A retry of the command, after a
crash anywhere, finds the same draw, offers it to the same rails with the same keys, and
a rail answers a repeated key with its first answer without moving money again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import attrs

from loc_core.creditline import (
    DISBURSEMENT_RAILS,
    CreditLine,
    Draw,
    DrawStatus,
    next_rail,
)
from loc_core.errors import InvalidTransition, RailUnavailable
from loc_core.events import DomainEvent
from loc_core.intents import IntentKind, IntentStatus, TransferIntent, request_fingerprint
from loc_core.payments import Direction, Rail
from loc_core.ports import (
    FeatureFlags,
    Metrics,
    TransferRequest,
    UnitOfWork,
)
from loc_core.services.kit import post_alert
from loc_core.services.lines._unit import LineWriter, bill_through
from loc_core.services.messagebus import Command
from loc_core.services.moving import Movements
from loc_core.services.rails import Transfer
from loc_core.validation import (
    Cents,
    Id,
    Key,
    from_key_part,
    key_part,
    validated,
)

__all__ = [
    "RTP_DISBURSEMENTS_FLAG",
    "DrawFromLine",
    "DrawTransfer",
    "abandon_draw",
    "book_draw",
    "draw_from_line",
    "draw_id_for",
    "draw_intent",
    "fail_draw",
    "parse_draw_transfer",
    "send_draw",
]

RTP_DISBURSEMENTS_FLAG = "loc-rtp-disbursements"
"""When off (for a user), draws go out by pinless debit, then ACH."""
_RTP = Rail.RTP
"""Bound once: a member read off its enum class is slow on CPython 3.11 (docs/simulation.md)."""
_DRAW_PREFIX = "draw"
_LONGEST_DRAW_ID = 880
"""Longest draw id: its sort key ``LOC#<line>#DRAW#<draw id>`` stays within DynamoDB's
1,024 bytes for any valid line id."""


@attrs.frozen(field_transformer=validated)
class DrawFromLine(Command[Draw]):
    """A borrower draws money from their line."""

    user_id: Id
    line_id: Id
    amount: Cents
    idempotency_key: Key
    """Chosen by the client, unique per line: the same key always means this same draw."""


def draw_id_for(command: DrawFromLine) -> str:
    """The draw's id, derived from the command so that a retry finds the same draw.

    When the ids (escaped by `key_part`) and the client's key would make an id longer
    than `_LONGEST_DRAW_ID`, the key is replaced by ``%`` and its SHA-256 (a client key
    never holds ``%``), so the draw's sort key and transfer key stay storable.
    """
    user, line = key_part(command.user_id), key_part(command.line_id)
    draw_id = f"{_DRAW_PREFIX}:{user}:{line}:{command.idempotency_key}"
    if len(draw_id) <= _LONGEST_DRAW_ID:
        return draw_id
    digest = hashlib.sha256(command.idempotency_key.encode()).hexdigest()
    return f"{_DRAW_PREFIX}:{user}:{line}:%{digest}"


@attrs.frozen
class DrawTransfer:
    """A rail transfer that sends a draw, recognised from its idempotency key."""

    user_id: str
    line_id: str
    draw_id: str
    rail: Rail


def parse_draw_transfer(idempotency_key: str) -> DrawTransfer | None:
    """The draw a transfer key belongs to, or None for any other transfer.

    ``draw:<user>:<line>:<client key>:<rail>``: the user and line ids are `key_part`s
    (a ``:`` inside them is escaped); the client's key, the last id, may hold ``:``.
    """
    draw_id, _, rail_value = idempotency_key.rpartition(":")
    parts = draw_id.split(":", 3)
    if len(parts) != 4 or parts[0] != _DRAW_PREFIX:  # noqa: PLR2004 - prefix, user, line, key
        return None
    try:
        rail = Rail(rail_value)
    except ValueError:
        return None
    return DrawTransfer(from_key_part(parts[1]), from_key_part(parts[2]), draw_id, rail)


def _enabled_rails(flags: FeatureFlags, user_id: str) -> tuple[Rail, ...]:
    rtp = flags.is_enabled(RTP_DISBURSEMENTS_FLAG, default=True, user_id=user_id)
    return tuple(rail for rail in DISBURSEMENT_RAILS if rail is not _RTP or rtp)


def draw_intent(
    command: DrawFromLine, *, rails: tuple[Rail, ...], now: dt.datetime
) -> TransferIntent:
    """The intent a draw commits before any rail is asked: its id is the draw's."""
    draw_id = draw_id_for(command)
    return TransferIntent(
        intent_id=draw_id,
        user_id=command.user_id,
        kind=IntentKind.DRAW,
        account_id=command.line_id,
        item_id=draw_id,
        direction=Direction.CREDIT,
        amount=command.amount,
        rails=rails,
        fingerprint=request_fingerprint("draw", command.user_id, command.line_id, command.amount),
        request_key=command.idempotency_key,
        created_at=now,
        updated_at=now,
    )


def draw_from_line(
    command: DrawFromLine,
    *,
    lines: LineWriter,
    movements: Movements,
    flags: FeatureFlags,
    metrics: Metrics,
) -> Draw:
    """Request a draw and send it by the first rail that accepts; resume a PENDING one.

    Returns:
        The draw: DISBURSED (with its rail) or FAILED (with the reason). A repeat of a
        finished draw returns it unchanged.

    Raises:
        NotFound: no such line.
        InvalidAmount, LineNotActive, InsufficientCredit, MovementLimitReached: the draw
            was refused; nothing is held. The cycle's bound is checked again in the
            commit that holds the draw, so a concurrent draw that took the last place
            first refuses this one (its intent, sent to no rail, is closed by the
            recovery job).
        IdempotencyConflict: the key was used on this line for another amount.
        ConcurrencyConflict: the line kept changing; retrying the command is safe.
    """
    draw_id = draw_id_for(command)
    uow = lines.uow
    with uow:
        line = uow.lines.get(command.user_id, command.line_id)
        if uow.intents.find(draw_id) is None:  # refused here: nothing is written
            bill_through(line, today=lines.today, product=lines.product)
            line.check_draw(draw_id=draw_id, amount=command.amount, on=lines.today)
            line.check_movement_room(on=lines.today, product=lines.product)
    intent = movements.open(
        draw_intent(
            command, rails=_enabled_rails(flags, command.user_id), now=movements.clock.now()
        ),
        reopen=False,
    )

    def hold(line: CreditLine, today: dt.date) -> Draw:
        if draw_id not in line.draws:  # checked again in the commit that takes the place
            line.check_movement_room(on=today, product=lines.product)
        return line.request_draw(draw_id=draw_id, amount=command.amount, on=today)

    draw, _ = lines.change(command.user_id, command.line_id, hold, actor="api", request_id=draw_id)
    if draw.status is DrawStatus.PENDING:
        draw = send_draw(intent, lines=lines, movements=movements, metrics=metrics)
    movements.finish(_stored(uow, intent))
    return draw


def _stored(uow: UnitOfWork, intent: TransferIntent) -> TransferIntent:
    with uow:
        return uow.intents.get(intent.user_id, intent.intent_id)


def send_draw(
    intent: TransferIntent, *, lines: LineWriter, movements: Movements, metrics: Metrics
) -> Draw:
    """Offer a PENDING draw to the rails it has not tried, in order, until one accepts.

    Every rail's answer is committed before the next rail is asked; when no rail is
    left the draw FAILS and its intent is ABANDONED in the same commit.
    """
    draw_id, user_id, line_id = intent.intent_id, intent.user_id, intent.account_id

    def update(
        change: Callable[[CreditLine, dt.date], Draw],
        also: Callable[[UnitOfWork, CreditLine, Draw], None] | None = None,
    ) -> Draw:
        draw, _ = lines.change(user_id, line_id, change, actor="api", request_id=draw_id, also=also)
        return draw

    def count(rail: Rail, outcome: str) -> None:
        metrics.increment("loc.lines.draw.rail", tags=(f"rail:{rail.value}", f"outcome:{outcome}"))

    with lines.uow as uow:
        draw = uow.lines.get(user_id, line_id).draws[draw_id]
    tried: list[str] = []
    unreachable = 0
    while draw.status is DrawStatus.PENDING:
        rail = next_rail(DISBURSEMENT_RAILS, enabled=intent.rails, declined=draw.declined_rails)
        if rail is None:
            earlier = ", ".join(f"{r.value} did not accept" for r in draw.declined_rails)
            reason = "no rail accepted the draw: " + (
                ", ".join(tried) or earlier or "no rail is enabled"
            )
            draw = abandon_draw(intent, reason, lines=lines, movements=movements, actor="api")
            if tried and unreachable == len(tried):
                post_alert(
                    movements.alerter,
                    f"every rail was unreachable for draw {draw_id}",
                    {"user_id": user_id, "line_id": line_id, "reason": reason},
                )
            break
        request = TransferRequest(
            idempotency_key=intent.transfer_key(rail),
            rail=rail,
            direction=Direction.CREDIT,
            user_id=user_id,
            amount=draw.amount,
            reference=line_id,
        )
        try:
            result = movements.rails.submit(request)
        except RailUnavailable as exc:  # nothing left: safe to offer the next rail
            unreachable += 1
            tried.append(f"{rail.value} unreachable ({exc})")
            count(rail, "unreachable")
            draw = update(_decline(draw_id, rail, tried[-1]))
            continue
        if result.accepted:
            count(rail, "accepted")
            transfer = Transfer(
                rail, request.idempotency_key, result.confirmation_id, result.accepted_at
            )
            draw = book_draw(intent, transfer, lines=lines, movements=movements)
        else:
            tried.append(f"{rail.value} declined ({result.decline_reason})")
            count(rail, "declined")
            draw = update(_decline(draw_id, rail, tried[-1]))
    return draw


def book_draw(
    intent: TransferIntent, transfer: Transfer, *, lines: LineWriter, movements: Movements
) -> Draw:
    """Record that `transfer` sent the draw, with its intent BOOKED, in one commit.

    A draw the line shows as finished otherwise is alerted (CRITICAL) and raised.
    """
    draw_id = intent.intent_id

    def booked(uow: UnitOfWork, line: CreditLine, draw: Draw) -> None:
        stored = uow.intents.get(intent.user_id, draw_id)
        if stored.status is IntentStatus.PENDING:
            movements.booked(
                uow, stored, transfer, outcome=draw.draw_id, events=list(line.outbox.events)
            )

    def disburse(line: CreditLine, today: dt.date) -> Draw:
        draw = line.draws[draw_id]
        if draw.status is DrawStatus.DISBURSED and draw.rail is transfer.rail:
            return draw  # an earlier try booked it
        return line.disburse_draw(draw_id=draw_id, rail=transfer.rail, on=today)

    try:
        draw, _ = lines.change(
            intent.user_id,
            intent.account_id,
            disburse,
            actor="api",
            request_id=draw_id,
            also=booked,
        )
    except InvalidTransition as exc:
        post_alert(
            movements.alerter,
            f"{transfer.rail.value} sent draw {draw_id}, which the line shows as already finished",
            {"user_id": intent.user_id, "line_id": intent.account_id},
            error=exc,
        )
        raise
    return draw


def abandon_draw(
    intent: TransferIntent, reason: str, *, lines: LineWriter, movements: Movements, actor: str
) -> Draw:
    """FAIL the intent's draw (if still PENDING) and ABANDON the intent in one commit.

    The draw's hold is released and the borrower is told at once (``loc_draw_failed``):
    an abandoned intent keeps no events to publish later, so they are published here,
    after the commit, whoever abandons it (the draw command, or the recovery job).
    """
    told: list[DomainEvent] = []
    draw, _ = lines.change(
        intent.user_id,
        intent.account_id,
        fail_draw(intent.intent_id, reason),
        actor=actor,
        request_id=intent.intent_id,
        also=_telling(_abandoning(intent, reason, movements), told),
    )
    lines.publish(told)
    return draw


def _telling(
    hook: Callable[[UnitOfWork, CreditLine, Draw], None], told: list[DomainEvent]
) -> Callable[[UnitOfWork, CreditLine, Draw], None]:
    """`hook`, also keeping the commit's events in `told` for the caller to publish after it.

    A `LineWriter.change` hook takes over the events; an abandoned intent keeps none, so
    the draw's failure notice would wait for the recovery job.
    """

    def keep(uow: UnitOfWork, line: CreditLine, draw: Draw) -> None:
        told[:] = line.outbox.events  # each attempt's own: a retried commit starts again
        hook(uow, line, draw)

    return keep


def _abandoning(
    intent: TransferIntent, reason: str, movements: Movements
) -> Callable[[UnitOfWork, CreditLine, Draw], None]:
    """A `LineWriter.change` hook: the draw's intent is ABANDONED in the draw's commit."""

    def abandon(uow: UnitOfWork, _line: CreditLine, _draw: Draw) -> None:
        stored = uow.intents.get(intent.user_id, intent.intent_id)
        if stored.status is IntentStatus.PENDING:
            stored.abandon(reason, now=movements.clock.now())
            uow.intents.save(stored)

    return abandon


def _decline(draw_id: str, rail: Rail, reason: str) -> Callable[[CreditLine, dt.date], Draw]:
    def change(line: CreditLine, today: dt.date) -> Draw:
        draw = line.draws[draw_id]
        if draw.status is not DrawStatus.PENDING:  # another attempt finished it meanwhile
            return draw
        return line.record_rail_decline(draw_id=draw_id, rail=rail, on=today, reason=reason)

    return change


def fail_draw(draw_id: str, reason: str) -> Callable[[CreditLine, dt.date], Draw]:
    """A change that FAILS a draw still PENDING (its hold released); a finished one stays."""

    def change(line: CreditLine, today: dt.date) -> Draw:
        draw = line.draws[draw_id]
        if draw.status is not DrawStatus.PENDING:  # another attempt finished it meanwhile
            return draw
        return line.fail_draw(draw_id=draw_id, on=today, reason=reason)

    return change
