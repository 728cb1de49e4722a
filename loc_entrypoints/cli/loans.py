"""``loc loans waive-fee``: an operator waives an installment's late fee (docs/corrections.md).

One door, as for every command: the CLI builds `WaiveLateFee` and hands it to the bus the
bootstrap builds from the ``LOC_*`` environment (with none set: the embedded in-memory
default), and prints what was waived and what the loan owes now. The core decides and
audits (process FEE_WAIVER); the operator's ``--reason`` is recorded marked as an
operator's (``operator (loc loans waive-fee): <reason>``, `_params.operator_reason`).

The idempotency key defaults to ``cli:<installment id>``: an installment's fee is waived
once, so running the same command again answers the same and changes nothing.
"""

from __future__ import annotations

import click

from loc_core.money import format_cents
from loc_core.services.commands import WaiveLateFee
from loc_entrypoints.cli import _params as params
from loc_entrypoints.cli.operations import command_bus, finish_bus

__all__ = ["loans"]

OPERATOR = "operator (loc loans waive-fee)"
"""Who the audit trail's reason names."""


@click.group()
def loans() -> None:
    """Operator corrections to a borrower's installment loans."""


@loans.command("waive-fee")
@click.argument("loan_id", callback=params.entity_id("loan_id"))
@click.option(
    "--user", "user_id", required=True, callback=params.user_id, help="The borrower it is for."
)
@click.option(
    "--installment",
    "installment_id",
    required=True,
    callback=params.entity_id("installment_id"),
    help="The installment whose late fee is waived (its id, as `GET /loans/{id}` shows it).",
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
    help="The request's idempotency key (default: cli:<installment id>).",
)
@click.pass_context
def waive_fee(
    ctx: click.Context,
    *,
    loan_id: str,
    user_id: str,
    installment_id: str,
    reason: str,
    idempotency_key: str | None,
) -> None:
    """Waive the late fee of an installment of LOAN_ID as of the day it was charged."""
    key = f"cli:{installment_id}" if idempotency_key is None else idempotency_key
    bus = command_bus(ctx)
    try:  # a refusal ends the command (LocGroup): one line, exit 1
        waived = bus.handle(WaiveLateFee(user_id, loan_id, installment_id, reason, key))
    finally:
        finish_bus(bus)
    click.echo(
        f"loan {loan_id} (user {user_id}): late fee of {format_cents(waived.amount)} on "
        f"installment {waived.installment_number} waived as of {waived.effective_on}; "
        f"the loan owes {format_cents(waived.outstanding_balance)}"
        + (f", refund due {format_cents(waived.refunds_due)}" if waived.refunds_due else "")
    )
