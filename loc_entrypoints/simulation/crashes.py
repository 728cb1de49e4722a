"""Process deaths between a rail's answer and the booking commit, injected at a set rate.

`CrashingRails` sits between the use cases and the rails the simulation's borrowers
experience. When a rail accepts a transfer, the process that asked dies with probability
`Scenario.crash_probability`: the rail has moved the money, the transfer's intent is
committed and PENDING, and nothing else is written. The simulation catches the death
where it sent the command (a borrower's act, the collections worker, the due job) and
leaves everything as it is; the recovery job books the money later.

A key crashes at most once, on the first accepted answer: the draw depends only on the
scenario's seed and the transfer key (same crashes on any machine, in any order), and a
key that crashed is remembered, so a resumed movement is never crashed again.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loc_core.ports import PaymentRails, TransferRequest, TransferResult
from loc_entrypoints.simulation.dice import Dice

__all__ = ["CrashingRails", "ProcessCrashed"]


class ProcessCrashed(BaseException):
    """The process moving money died after a rail accepted and before the booking commit.

    A `BaseException`, not an `Exception` (and never a `LocError`): a dead process runs no
    more of its own code, so the use cases' per-item ``except Exception`` (a job's
    one-bad-line rule) must not catch it and carry on; only the simulation's driver,
    standing where the dead process's runtime would be, catches it.
    """

    def __init__(self, request: TransferRequest) -> None:
        super().__init__(f"process died after the rail accepted {request.idempotency_key!r}")
        self.request = request


@attrs.define
class CrashingRails:
    """`PaymentRails` that kill the asking process after some accepted transfers."""

    inner: PaymentRails
    seed: int
    probability: float
    crashed: dict[str, tuple[TransferRequest, TransferResult]] = attrs.field(factory=dict)
    """Transfers whose first answer killed the process, with that answer, by key (a key
    that crashed is never crashed again)."""
    resumed: set[str] = attrs.field(factory=set)
    """Crashed keys a retry of the command sent again: it found the intent PENDING and
    resumed it before the recovery job did (a command never resends a BOOKED intent)."""

    @property
    def timeout(self) -> dt.timedelta:
        """The inner rails' timeout: dying takes no time."""
        return self.inner.timeout

    def submit(self, request: TransferRequest) -> TransferResult:
        """Ask the inner rails; an accepted first answer may kill the process.

        Raises:
            ProcessCrashed: the rail moved the money and the process died.
        """
        result = self.inner.submit(request)
        key = request.idempotency_key
        if key in self.crashed:
            self.resumed.add(key)
        elif (
            self.probability
            and result.accepted
            and Dice(f"{self.seed}:crash:{key}").random() < self.probability
        ):
            self.crashed[key] = (request, result)
            raise ProcessCrashed(request)
        return result

    def find(self, idempotency_key: str) -> TransferResult | None:
        """What the inner rails answered (reading never crashes)."""
        return self.inner.find(idempotency_key)
