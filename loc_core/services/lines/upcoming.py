"""The upcoming job (``loc_upcoming``, 14:00 UTC daily): remind borrowers of a due date.

Lines are found by due date (`CreditLineRepository.due_between`) from tomorrow to
`upcoming_notice_days` (7) ahead; the core decides (`send_upcoming_notice`) and
remembers the cycle, so each cycle's ``loc_payment_upcoming`` goes out once, a day the
job missed is caught up on a later day of the window, and a re-run sends nothing more.
Like the seed, a line whose latest close is not billed yet is skipped.
"""

from __future__ import annotations

import datetime as dt

from loc_core.creditline import CreditLine, CreditLineProduct
from loc_core.ports import Alerter, Clock, Metrics, Notifier, UnitOfWork
from loc_core.services.lines._unit import business_date
from loc_core.services.lines.jobs import JobReport, change_each_line

__all__ = ["send_upcoming_payment_notices"]


def send_upcoming_payment_notices(
    *,
    uow: UnitOfWork,
    clock: Clock,
    product: CreditLineProduct,
    notifier: Notifier,
    alerter: Alerter,
    metrics: Metrics | None = None,
) -> JobReport:
    """Send each line due within the notice window its reminder, once per cycle."""
    today = business_date(clock)
    with uow:
        refs = uow.lines.due_between(
            today + dt.timedelta(days=1), today + dt.timedelta(days=product.upcoming_notice_days)
        )

    def notify(line: CreditLine, on: dt.date) -> bool:
        return line.send_upcoming_notice(today=on, product=product).notify

    return change_each_line(
        "loc_upcoming",
        refs,
        notify,
        uow=uow,
        today=today,
        clock=clock,
        product=product,
        notifier=notifier,
        alerter=alerter,
        metrics=metrics,
    )
