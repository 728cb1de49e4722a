"""An installment's item, and its audit record, measured with the DynamoDB codec, stay storable.

The start-up check holds `loc_core.installment.capacity`'s worst case under 400 KB; these
tests measure that worst case (the most applications the largest allowed bound lets one
installment hold, each with the longest payment id and the largest amounts) as DynamoDB
stores it, so the model can never be smaller than the items really are. The memory
store's size check uses the model's `installment_bytes_at_most`, never below either.
"""

import datetime as dt

import attrs
import pytest

from loc_adapters.dynamodb._codecs.loans import encode_loan
from loc_adapters.dynamodb._codecs.records import encode_audit_record
from loc_adapters.dynamodb._plan import item_size
from loc_adapters.memory import InMemoryDatabase, InMemoryUnitOfWork, ManualClock
from loc_core.errors import InvariantViolation
from loc_core.events import AuditRecord, Change, diff
from loc_core.installment import (
    InstallmentProduct,
    Loan,
    PaymentApplication,
    Process,
    largest_installment_bytes,
)
from loc_core.installment.capacity import (
    LONGEST_PAYMENT_ID,
    installment_bytes_at_most,
    largest_installment_applications,
)
from loc_core.payments import Rail
from loc_core.ports import ITEM_SIZE_LIMIT
from loc_core.testing.installment import make_loan

NOW = dt.datetime(2026, 1, 6, 15, tzinfo=dt.UTC)
LARGEST = 10**15
"""More cents than any loan holds: the widest number an amount is stored as."""
LOAN_ID = "l" * 126
"""The longest loan id whose installment ids (``<loan>:<n>``) are valid ids (128)."""
LARGEST_ALLOWED = InstallmentProduct(max_manual_payments_per_loan=319)
"""The largest bound the start-up check accepts for the default product (320 is not)."""


def _loan() -> Loan:
    loan = make_loan(loan_id=LOAN_ID, user_id="u" * 128, loan_amount=10**9)
    loan.outbox.drain()
    return loan


def _applications(installment_id: str, count: int, cents: int) -> list[PaymentApplication]:
    return [
        PaymentApplication(
            payment_id=f"{n:05d}".ljust(LONGEST_PAYMENT_ID, "p"),
            installment_id=installment_id,
            amount=3 * cents,
            payment_date=dt.date(2026, 12, 31),
            late_fee=cents,
            origination_fee=cents,
            principal=cents,
        )
        for n in range(count)
    ]


def test_the_largest_allowed_installment_and_its_audit_record_fit_one_item() -> None:
    loan = _loan()
    count = largest_installment_applications(LARGEST_ALLOWED)
    first = loan.installments[0]
    before = attrs.evolve(first, applications=_applications(first.installment_id, count, LARGEST))
    after = attrs.evolve(before, applications=_applications(first.installment_id, count, 1))
    loan.installments[0] = after
    change = Change(  # a correction's replay rewrites every application: both lists full
        entity="installment",
        entity_id=first.installment_id,
        user_id=loan.user_id,
        process=Process.CORRECTION.value,
        reason="r" * 2_000,
        fields=diff(before.audit_snapshot(), after.audit_snapshot()),
    )
    record = AuditRecord("x" * 32, change, "a" * 128, "q" * 1_000, NOW)

    stored = item_size(encode_loan(loan, shards=64)[1])
    audited = item_size(encode_audit_record(record, version=10**9, position=10**3, shards=64))

    assert largest_installment_bytes(LARGEST_ALLOWED) <= ITEM_SIZE_LIMIT
    assert stored <= installment_bytes_at_most(after) <= largest_installment_bytes(LARGEST_ALLOWED)
    assert audited <= installment_bytes_at_most(before)
    assert audited <= largest_installment_bytes(LARGEST_ALLOWED)


def test_without_the_bound_one_cent_payments_pass_the_item_limit_in_both_stores() -> None:
    """The finding: with a 255-character client key each payment adds about 640 bytes to
    the installment and 800 to the audit record of the next change to it, so some 500
    one-cent payments on one installment pass 400 KB. DynamoDB refuses such an item
    before writing; so does the memory store, whose size is never below DynamoDB's."""
    loan = _loan()
    for n in range(650):
        key = f"{n:05d}".ljust(255, "k")
        loan.apply_payment(
            f"manual:{LOAN_ID}:{key}:pinless",
            1,
            process=Process.MANUAL,
            rail=Rail.PINLESS,
            today=NOW.date(),
        )
        loan.outbox.drain()
    installment = loan.installments[0]
    stored = item_size(encode_loan(loan, shards=1)[1])
    assert stored > ITEM_SIZE_LIMIT
    assert installment_bytes_at_most(installment) >= stored

    uow = InMemoryUnitOfWork(InMemoryDatabase(ManualClock(NOW)), transaction_limit=1_000)
    with uow:
        uow.loans.add(loan)  # one commit of few enough items: too big, not too many
        with pytest.raises(InvariantViolation) as refused:
            uow.commit(actor="test", request_id="too-big")
    assert refused.value.invariant == "item_size_limit"
    assert installment.installment_id in str(refused.value)
