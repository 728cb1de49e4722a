"""``loc lines waive-fee``: an operator waives a line's late fee (docs/credit-lines.md).

One door, as for every command: the CLI builds `WaiveLineLateFee` and hands it to the
bus the bootstrap builds from the ``LOC_*`` environment (with none set: the embedded
in-memory default), and prints what was waived and what the line owes now. The core
decides and audits (process FEE_WAIVER); the operator's ``--reason`` is recorded marked
as an operator's (``operator (loc lines waive-fee): <reason>``, `_params.operator_reason`).

The fee is named by its cycle, ``--cycle``: the date of the statement whose minimum was
missed (``loc_past_due``'s ``statement_date``). The idempotency key defaults to
``cli:<line id>:<cycle>``: a cycle's fee is waived once, so running the same command
again answers the same and changes nothing.
"""

from __future__ import annotations

import datetime as dt

import click

from loc_core.money import format_cents
from loc_core.services.commands import WaiveLineLateFee
from loc_entrypoints.cli import _params as params
from loc_entrypoints.cli.operations import command_bus, finish_bus

__all__ = ["lines"]

OPERATOR = "operator (loc lines waive-fee)"
"""Who the audit trail's reason names."""


@click.group()
def lines() -> None:
    """Operator corrections to a borrower's lines of credit."""


@lines.command("waive-fee")
@click.argument("line_id", callback=params.entity_id("line_id"))
@click.option(
    "--user", "user_id", required=True, callback=params.user_id, help="The borrower it is for."
)
@click.option(
    "--cycle",
    "late_fee_cycle",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date of the statement whose minimum was missed (YYYY-MM-DD).",
)
@click.option(
    "--reason",
    required=True,
    callback=params.operator_reason(OPERATOR, blank="say why the fee is waived"),
    help="Why, as the audit trail should record it (e.g. 'debit never presented: outage').",
)
@click.option(
    "--key",
    "idempotency_key",
    default=None,
    help="The request's idempotency key (default: cli:<line id>:<cycle>).",
)
@click.pass_context
def waive_fee(
    ctx: click.Context,
    *,
    line_id: str,
    user_id: str,
    late_fee_cycle: dt.datetime,
    reason: str,
    idempotency_key: str | None,
) -> None:
    """Waive LINE_ID's late fee for a missed cycle as of the day it was charged."""
    cycle = late_fee_cycle.date()
    key = f"cli:{line_id}:{cycle}" if idempotency_key is None else idempotency_key
    bus = command_bus(ctx)
    try:  # a refusal ends the command (LocGroup): one line, exit 1
        waived = bus.handle(WaiveLineLateFee(user_id, line_id, cycle, reason, key))
    finally:
        finish_bus(bus)
    click.echo(
        f"line {line_id} (user {user_id}): late fee of {format_cents(waived.amount)} for the "
        f"cycle closed {waived.late_fee_cycle} waived as of {waived.effective_on}; the line "
        f"owes {format_cents(waived.balance)}"
        + (f", refund due {format_cents(waived.refunds_due)}" if waived.refunds_due else "")
    )
