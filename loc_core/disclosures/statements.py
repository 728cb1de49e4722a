"""A line of credit's periodic statement figures (Regulation Z, 12 CFR 1026.7)."""

from __future__ import annotations

from loc_core.creditline.config import CreditLineProduct
from loc_core.creditline.statement import Statement
from loc_core.disclosures.figures import StatementDisclosure

__all__ = ["statement_disclosure"]


def statement_disclosure(
    statement: Statement, *, credit_limit: int, product: CreditLineProduct
) -> StatementDisclosure:
    """The figures a periodic statement discloses for `statement`."""
    raise NotImplementedError  # filled in by the figures work of issue 15
