"""``loc disputes resolve``: an operator resolves a line's billing-error dispute.

A borrower disputes an amount on a statement (``POST /lines/{line_id}/disputes``); the
dispute is OPEN and its amount held back from collection until an operator, having
investigated, resolves it here: ``--error`` credits the disputed charge as of its own
date (an effective-dated correction: the interest on it recomputed away, a payment now in
excess a refund due), ``--no-error`` makes it owed again from a new due date. Either way
the borrower is told, with the ``--explanation`` given (Regulation Z 1026.13(e)-(f);
docs/credit-lines.md, *Billing errors*). The command hands `ResolveBillingDispute` to the
bus the bootstrap builds from the ``LOC_*`` environment; the same resolution again
changes nothing.
"""

from __future__ import annotations

import click

from loc_core.services.commands import ResolveBillingDispute
from loc_entrypoints.cli import _params as params
from loc_entrypoints.cli.operations import command_bus, finish_bus

__all__ = ["disputes"]


def _explanation(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Click callback: what the borrower is told, on one line and not blank.

    Raises:
        click.BadParameter: blank.
    """
    text = " ".join(value.split())
    if not text:
        raise click.BadParameter("say what the investigation found", param=param)
    return text


@click.group()
def disputes() -> None:
    """Resolve borrowers' billing-error disputes on lines of credit."""


@disputes.command("resolve")
@click.argument("dispute_id", callback=params.entity_id("dispute_id"))
@click.option(
    "--user", "user_id", required=True, callback=params.user_id, help="The borrower it is for."
)
@click.option(
    "--line",
    "line_id",
    required=True,
    callback=params.entity_id("line_id"),
    help="The line the dispute is on.",
)
@click.option(
    "--error/--no-error",
    "error_found",
    default=None,
    required=True,
    help="The error was found (credit it) or there was none (the amount is owed again).",
)
@click.option(
    "--explanation",
    required=True,
    callback=_explanation,
    help="What the borrower is told the investigation found.",
)
@click.pass_context
def resolve(
    ctx: click.Context,
    *,
    dispute_id: str,
    user_id: str,
    line_id: str,
    error_found: bool | None,
    explanation: str,
) -> None:
    """Resolve the dispute DISPUTE_ID; print how it stands."""
    if error_found is None:
        raise click.UsageError("give --error or --no-error", ctx)
    bus = command_bus(ctx)
    try:  # a refusal ends the command (LocGroup): one line, exit 1
        done = bus.handle(
            ResolveBillingDispute(user_id, line_id, dispute_id, error_found, explanation)
        )
    finally:
        finish_bus(bus)
    if error_found:
        outcome = f"error: {done.credited} cents credited as of {done.charge_on}"
    else:
        outcome = f"no error: {done.amount} cents owed again, due {done.owed_again_on}"
    click.echo(f"dispute {dispute_id} (line {line_id}, user {user_id}): {outcome}")
