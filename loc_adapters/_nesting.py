"""The rule both units of work keep: one ``with uow:`` block at a time, never one inside another."""

from __future__ import annotations

from loc_core.errors import InvalidConfiguration

__all__ = ["nested_block"]


def nested_block() -> InvalidConfiguration:
    """The error for a ``with uow:`` entered while the same unit of work is already open.

    Entering a unit of work starts it clean (`UnitOfWork.__enter__`) and leaving it rolls
    back what was not committed, so an inner block would drop the outer block's reads and
    pending writes, and the outer block's commit would then write nothing, silently.
    """
    return InvalidConfiguration(
        "this unit of work is already open (a `with uow:` inside another on the same unit "
        "of work): entering it again would drop the outer block's reads and pending writes; "
        "finish the outer block first, or hand the inner work to the bus after it",
        entity="unit_of_work",
        invariant="one_block_per_unit_of_work",
    )
