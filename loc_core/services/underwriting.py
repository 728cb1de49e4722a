"""What deciding an application shares in both products: one service object.

An application for a loan or a line is decided the same way: read the applicant's
records, ask underwriting, draw the application's id and file the answer. The bus builds
`ApplicationDesk` from the registered ports, so each product's use case declares one
parameter for them instead of five.
"""

from __future__ import annotations

import attrs

from loc_core.ports import Clock, IdGenerator, Underwriting, UnitOfWork, Users

__all__ = ["ApplicationDesk"]


@attrs.frozen
class ApplicationDesk:
    """The ports deciding an application needs: records, applicant, underwriting, ids, time.

    Handlers declare it like a port (``desk: ApplicationDesk``); the bus builds it once.
    """

    uow: UnitOfWork
    users: Users
    underwriting: Underwriting
    ids: IdGenerator
    clock: Clock
