"""Accepting an offer: the application converts once into an ACTIVE line.

The application (with `line_id` set) and the new line are written in one commit, so an
offer can never become two lines: a concurrent second acceptance loses the version race
on the application. The command is idempotent by the application itself: a repeat
returns the line the offer became, whatever happened to the offer since.
"""

from __future__ import annotations

import attrs

from loc_core.creditline import LATEST_CYCLE_DAY, CreditLine, CreditLineProduct
from loc_core.errors import NotEligible
from loc_core.ports import Clock, IdGenerator, UnitOfWork, Users
from loc_core.services.lines.applying import line_eligibility
from loc_core.services.messagebus import Command, Publisher
from loc_core.validation import Id, valid_count, validated

__all__ = ["AcceptLineOffer", "accept_line_offer"]


@attrs.frozen(field_transformer=validated)
class AcceptLineOffer(Command[CreditLine]):
    """A borrower accepts an approved offer."""

    user_id: Id
    application_id: Id
    cycle_day: int | None = attrs.field(
        default=None, validator=valid_count(minimum=1, maximum=LATEST_CYCLE_DAY, optional=True)
    )
    """A billing cycle day (1..28) the borrower chose; None: the product's rule."""


def accept_line_offer(
    command: AcceptLineOffer,
    *,
    uow: UnitOfWork,
    users: Users,
    ids: IdGenerator,
    clock: Clock,
    product: CreditLineProduct,
    publish: Publisher,
) -> CreditLine:
    """Open the line an APPROVED, unexpired, unconverted offer promises.

    The user must still be active and hold no other line that is not CLOSED.

    Returns:
        The new line, or the line the offer already became.

    Raises:
        NotFound: no such application.
        ApplicationNotApproved: it was rejected or abandoned.
        ApplicationExpired: its offer expired.
        NotEligible: the user is no longer active, or has another open or defaulted line.
        InvalidConfiguration: `cycle_day` outside 1..28.
        ConcurrencyConflict: another acceptance won the race; repeating returns its line.
    """
    now = clock.now()
    with uow:
        application = uow.line_applications.get(command.user_id, command.application_id)
        if application.line_id is not None:
            return uow.lines.get(command.user_id, application.line_id)
        reasons = line_eligibility(
            user_active=users.get(command.user_id).active,
            lines=uow.lines.for_user(command.user_id),
            applications=(),  # the offer being accepted is the live one
            now=now,
        )
        if reasons:
            raise NotEligible(reasons, user_id=command.user_id)
        line = application.open_line(
            line_id=ids.new_id(),
            now=now,
            product=product,
            cycle_day=command.cycle_day,
        )
        uow.line_applications.save(application)
        uow.lines.add(line)
        events = uow.commit(actor="api", request_id=f"accept:{command.application_id}")
    publish(events)
    with uow:
        return uow.lines.get(command.user_id, line.line_id)
