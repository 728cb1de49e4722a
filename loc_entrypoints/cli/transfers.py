"""``loc transfers settle`` and ``loc transfers book``: an operator finishes money movements.

``settle``: a movement no rail can tell about.

A movement whose rail cannot say what it did stays PENDING (each recovery run alerts it
CRITICAL, "money movement left open", naming its user and intent) and holds back every
other debit on its loan or line. When the operator has learned its fate elsewhere (the
bank's or processor's settlement report), this command hands `SettleTransferByHand` to
the bus the bootstrap builds from the ``LOC_*`` environment: ``--moved`` books it on the
rail with the bank's confirmation, ``--not-moved`` abandons it. The core refuses to
overrule a rail that can answer (that movement is the recovery job's), and alerts every
settlement with the operator's reason (docs/money-movements.md).

``book``: a debit a rail took that the table has no record of (the table was restored
from a backup behind the rails): `BookLostTransfer`, with the transfer's key, the loan or
line it paid, the amount and the confirmation from the processor's report; the rail must
confirm it (docs/money-movements.md#after-the-table-is-restored). It counts from the day
the rail took it: an earlier day is an effective-dated correction, and one beyond the
correction reach is refused (one line, exit 1) for booking by hand
(docs/corrections.md#a-lost-debit-booked-by-hand).
"""

from __future__ import annotations

import click

from loc_core.errors import InvalidRequest
from loc_core.payments import Rail
from loc_core.services.commands import BookLostTransfer, SettleTransferByHand
from loc_core.validation import require_transfer_key
from loc_entrypoints.cli import _params as params
from loc_entrypoints.cli.operations import command_bus, finish_bus

__all__ = ["transfers"]


def _key(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Click callback: an intent's id or a transfer's key, checked under its own name.

    Raises:
        click.BadParameter: not a key the library could have built.
    """
    try:
        return require_transfer_key(value, param.name or "key")
    except InvalidRequest as exc:
        raise click.BadParameter(str(exc), param=param) from exc


OPERATOR = "operator (loc transfers settle)"
"""Who the alert's reason names."""

BOOKER = "operator (loc transfers book)"
"""Who the alert of a lost transfer booked by hand names."""


@click.group()
def transfers() -> None:
    """Settle money movements no rail can tell about; book the ones the table lost."""


@transfers.command("settle")
@click.argument("intent_id", callback=_key)
@click.option(
    "--user", "user_id", required=True, callback=params.user_id, help="The borrower it is for."
)
@click.option(
    "--moved/--not-moved",
    default=None,
    required=True,
    help="The money moved (give --rail and --confirmation), or it did not.",
)
@click.option(
    "--rail",
    type=click.Choice([rail.value for rail in Rail]),
    help="The rail that moved it (with --moved).",
)
@click.option("--confirmation", default="", help="The bank's confirmation of it (with --moved).")
@click.option(
    "--reason",
    required=True,
    callback=params.operator_reason(OPERATOR, blank="say how you know what became of the money"),
    help="How you know, as the alert should record it (e.g. 'processor settlement report').",
)
@click.pass_context
def settle(
    ctx: click.Context,
    *,
    intent_id: str,
    user_id: str,
    moved: bool | None,
    rail: str | None,
    confirmation: str,
    reason: str,
) -> None:
    """Book (--moved) or abandon (--not-moved) the movement INTENT_ID; print what was done."""
    if moved is None:
        raise click.UsageError("give --moved or --not-moved", ctx)
    bus = command_bus(ctx)
    try:  # a refusal ends the command (LocGroup): one line, exit 1
        done = bus.handle(
            SettleTransferByHand(
                user_id,
                intent_id,
                moved,
                reason,
                None if rail is None else Rail(rail),
                confirmation,
            )
        )
    finally:
        finish_bus(bus)
    click.echo(f"transfer {intent_id} (user {user_id}): {done}")


@transfers.command("book")
@click.argument("transfer_key", callback=_key)
@click.option(
    "--user", "user_id", required=True, callback=params.user_id, help="The borrower it is for."
)
@click.option(
    "--account",
    "account_id",
    required=True,
    callback=params.entity_id("account"),
    help="The loan (manual:, autopay: keys) or line (pay:, due: keys) it paid.",
)
@click.option("--amount", required=True, type=int, help="The cents the rail moved (its report).")
@click.option("--confirmation", required=True, help="The rail's confirmation of the transfer.")
@click.option(
    "--reason",
    required=True,
    callback=params.operator_reason(BOOKER, blank="say where you found the transfer"),
    help="Where you found it, as the alert should record it (e.g. 'PayEngine report').",
)
@click.pass_context
def book(
    ctx: click.Context,
    *,
    transfer_key: str,
    user_id: str,
    account_id: str,
    amount: int,
    confirmation: str,
    reason: str,
) -> None:
    """Book the debit TRANSFER_KEY a rail took that the table does not record.

    It counts from the day the rail took it (an earlier day corrects the account as of then).
    """
    bus = command_bus(ctx)
    try:  # a refusal ends the command (LocGroup): one line, exit 1
        done = bus.handle(
            BookLostTransfer(user_id, account_id, transfer_key, amount, confirmation, reason)
        )
    finally:
        finish_bus(bus)
    click.echo(f"transfer {transfer_key} (user {user_id}): {done}")
