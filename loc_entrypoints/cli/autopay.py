"""``loc autopay loan|line``: an operator turns a borrower's autopay on or off (docs/jobs.md).

One door, as for every command: the CLI builds `SetAutopay` or `SetLineAutopay` and hands
it to the bus the bootstrap builds from the ``LOC_*`` environment (with none set: the
embedded in-memory default), then reads the loan or line back (`GetLoan`, `GetLine`) and
prints the setting it now has. The core decides and audits (process AUTOPAY_SETTING); the
operator's ``--reason`` is recorded in the audit trail, marked as an operator's
(``operator (loc autopay): <reason>``, `_params.operator_reason`), so the trail tells a
change made by phone from the borrower's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from loc_core.creditline import CreditLine
from loc_core.errors import LockNotAcquired
from loc_core.installment import Loan
from loc_core.services.commands import GetLine, GetLoan, SetAutopay, SetLineAutopay
from loc_core.services.messagebus import Command
from loc_entrypoints.cli import _params as params
from loc_entrypoints.cli.operations import command_bus, finish_bus

__all__ = ["autopay"]

OPERATOR = "operator (loc autopay)"
"""Who the audit trail's reason names: the core records the change under the API's actor."""


def _given(ctx: click.Context, _param: click.Parameter, value: bool | None) -> bool:  # noqa: FBT001 - a click flag
    """Click callback: a flag pair the operator must choose (click leaves it None, unasked).

    Raises:
        click.UsageError: neither ``--on`` nor ``--off`` (exit 2).
    """
    if value is None:
        raise click.UsageError("give --on or --off: autopay's setting after the command", ctx)
    return value


def _options(kind: str) -> list[click.Parameter]:
    return [
        click.Argument([f"{kind}_id"], callback=params.entity_id(f"{kind}_id")),
        click.Option(
            ["--user", "user_id"],
            required=True,
            callback=params.user_id,
            help=f"The borrower whose {kind} it is.",
        ),
        click.Option(
            ["--on/--off", "enabled"],
            default=None,
            required=True,
            callback=_given,
            help="Turn autopay on (the borrower authorized the debits) or off.",
        ),
        click.Option(
            ["--reason"],
            required=True,
            callback=params.operator_reason(
                OPERATOR, blank="give the reason the audit trail should record"
            ),
            help="Why, as the audit trail should record it (e.g. 're-authorized by phone "
            "after a returned payment').",
        ),
    ]


@click.group()
def autopay() -> None:
    """Turn a borrower's autopay on or off (a loan's or a line's)."""


@autopay.command("loan", params=_options("loan"))
@click.pass_context
def loan(ctx: click.Context, loan_id: str, user_id: str, enabled: bool, reason: str) -> None:  # noqa: FBT001 - a click flag
    """Turn autopay on or off for the installment loan LOAN_ID; print the setting after."""
    _set(
        ctx,
        ("loan", loan_id, user_id),
        SetAutopay(user_id, loan_id, enabled, reason=reason),
        GetLoan(user_id, loan_id),
    )


@autopay.command("line", params=_options("line"))
@click.pass_context
def line(ctx: click.Context, line_id: str, user_id: str, enabled: bool, reason: str) -> None:  # noqa: FBT001 - a click flag
    """Turn autopay on or off for the line of credit LINE_ID; print the setting after."""
    _set(
        ctx,
        ("line", line_id, user_id),
        SetLineAutopay(user_id, line_id, enabled, reason=reason),
        GetLine(user_id, line_id),
    )


def _set(
    ctx: click.Context,
    which: tuple[str, str, str],
    change: Command[bool],
    read: Command[Loan | CreditLine],
) -> None:
    """Hand `change` to the bus, read the setting back with `read`, and say what it is.

    `which` names the loan or line: (``loan`` or ``line``, its id, its borrower).
    """
    kind, entity_id, user_id = which
    bus = command_bus(ctx)
    try:  # a refusal ends the command (LocGroup): one line, exit 1
        with _retry_later(kind, entity_id):
            changed = bus.handle(change)
        now = bus.handle(read).autopay_enabled
    finally:
        finish_bus(bus)
    click.echo(_said(kind, entity_id, user_id, now=now, changed=changed))


@contextlib.contextmanager
def _retry_later(kind: str, entity_id: str) -> Iterator[None]:
    """A refusal because a debit is being sent (the debit lease is held) said as such.

    The core refuses a change of the setting while a payment or an autopay or due-job
    debit is being sent for the loan or line (`LockNotAcquired`), so a revocation is never
    reported done while money goes out: the operator is told nothing changed and to try
    again, not the lease's key and holder.

    Raises:
        click.ClickException: for `LockNotAcquired` (exit 1).
    """
    try:
        yield
    except LockNotAcquired as busy:
        raise click.ClickException(
            f"autopay of {kind} {entity_id} not changed: a payment or debit is being sent "
            "for it right now; try again in a few minutes"
        ) from busy


def _said(kind: str, entity_id: str, user_id: str, *, now: bool, changed: bool) -> str:
    setting = "on" if now else "off"
    if changed:
        return f"{kind} {entity_id} (user {user_id}): autopay is now {setting}"
    return f"{kind} {entity_id} (user {user_id}): autopay was already {setting}; nothing changed"
