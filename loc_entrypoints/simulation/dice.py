"""A small seeded random source per borrower: one integer of state, same numbers everywhere.

Each borrower needs its own stream of decisions, so that what one borrower does never
shifts another's draws. `random.Random` keeps 2.5 KB of state per instance, which is
250 MB for a book of 100,000 borrowers; SplitMix64 keeps one 64-bit integer, uses only
integer arithmetic (so the stream is the same on every machine and Python build), and
passes the usual statistical test batteries for this kind of use.
"""

from __future__ import annotations

import hashlib

__all__ = ["Dice"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_FLOAT_BITS = 53


class Dice:
    """SplitMix64, seeded from text (a scenario seed and a borrower id)."""

    __slots__ = ("_state",)

    def __init__(self, seed: str) -> None:
        digest = hashlib.blake2b(seed.encode(), digest_size=8).digest()
        self._state = int.from_bytes(digest, "big")

    def _next(self) -> int:
        self._state = state = (self._state + _GOLDEN) & _MASK
        state = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        state = ((state ^ (state >> 27)) * 0x94D049BB133111EB) & _MASK
        return state ^ (state >> 31)

    def random(self) -> float:
        """A float in [0, 1), from the top 53 bits."""
        return (self._next() >> (64 - _FLOAT_BITS)) / (1 << _FLOAT_BITS)

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high] (the modulo bias is below 2**-40 for these ranges)."""
        return low + self._next() % (high - low + 1)

    def randrange(self, start: int, stop: int, step: int = 1) -> int:
        """An integer from ``range(start, stop, step)``."""
        count = (stop - start + step - 1) // step
        return start + step * (self._next() % count)
