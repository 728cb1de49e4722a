"""Which payment rail to try next: a pure decision over what is enabled and what declined.

Draws go out RTP, then pinless debit, then ACH (a feature flag may switch RTP off);
repayments are collected pinless first, then ACH. RTP only pushes money out, so it never
collects.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from loc_core.payments import Rail

__all__ = ["DISBURSEMENT_RAILS", "next_rail"]

DISBURSEMENT_RAILS: tuple[Rail, ...] = (Rail.RTP, Rail.PINLESS, Rail.ACH)


def next_rail(
    order: Sequence[Rail], *, enabled: Collection[Rail], declined: Collection[Rail]
) -> Rail | None:
    """The first rail in `order` that is enabled and has not declined; None when none is left."""
    for rail in order:
        if rail in enabled and rail not in declined:
            return rail
    return None
