"""What deciding an application shares in both products: one service object.

An application for a loan or a line is decided the same way: read the applicant's
records, ask underwriting, draw the application's id and file the answer. The bus builds
`ApplicationDesk` from the registered ports, so each product's use case declares one
parameter for them instead of five.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs

from loc_core.ports import (
    Clock,
    IdempotencyStore,
    IdGenerator,
    Lock,
    Underwriting,
    UnitOfWork,
    Users,
)
from loc_core.services.kit import leased, run_once

__all__ = ["ApplicationDesk"]


@attrs.frozen
class ApplicationDesk:
    """What deciding an application needs: records, applicant, underwriting, ids, time, once.

    Handlers declare it like a port (``desk: ApplicationDesk``); the bus builds it once.
    """

    uow: UnitOfWork
    users: Users
    underwriting: Underwriting
    ids: IdGenerator
    clock: Clock
    lock: Lock
    idempotency: IdempotencyStore

    def decide_once(
        self,
        command: attrs.AttrsInstance,
        *,
        key: str,
        lease: str,
        owner: Callable[[], str],
        ttl: dt.timedelta,
        decide: Callable[[], str],
    ) -> str:
        """Decide once per idempotency `key`, under the applicant's `lease`; the application id.

        A repeat of the key returns the first decision's id. `owner` names the lease's
        holder when the decision starts, so nothing is drawn for a repeat. A claim older
        than the lease's `ttl` belonged to a process that died: it is resumed.
        """

        def leased_decision() -> str:
            with leased(self.lock, lease, owner=owner(), ttl=ttl):
                return decide()

        return run_once(
            key,
            command,
            store=self.idempotency,
            clock=self.clock,
            work=leased_decision,
            stale_after=ttl,
        )
