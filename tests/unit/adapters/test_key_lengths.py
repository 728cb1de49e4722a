"""Every key the library derives from the longest valid ids and client keys can be stored.

A derived key that DynamoDB or a settlement event refuses would fail the booking after the
rail moved the money, on every retry. For ids of `MAX_ID_LENGTH` and client keys of
`MAX_KEY_LENGTH` (full of ``:``, which `key_part` escapes to three characters), each
transfer key passes `require_transfer_key`, each derived id can be one part of a key
(no ``#``), and each DynamoDB key stays within its limit: 2,048 bytes for a partition
key, 1,024 for a sort key.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from loc_adapters.dynamodb import _keys as keys
from loc_core.payments import Rail
from loc_core.services.commands import DrawFromLine, PayLine
from loc_core.services.kit import lock_key
from loc_core.services.lines.drawing import draw_id_for, parse_draw_transfer
from loc_core.services.lines.due import due_payment_id
from loc_core.services.loans.collections_worker import autopay_payment_id
from loc_core.services.loans.disbursement import disbursement_key, parse_disbursement_key
from loc_core.services.loans.payments import manual_payment_id
from loc_core.validation import (
    MAX_ID_LENGTH,
    MAX_KEY_LENGTH,
    SAFE_CHARACTERS,
    require_id,
    require_transfer_key,
)

PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024

_CHARACTERS = st.sampled_from(SAFE_CHARACTERS) | st.just(":")
"""Safe characters, with ``:`` (escaped to ``%3A`` in keys) drawn far more often."""


def _longest(size: int) -> st.SearchStrategy[str]:
    """Strings of `size` safe characters, the longest escaped form (all ``:``) among them."""
    return st.just(":" * size) | st.text(_CHARACTERS, min_size=size, max_size=size)


ids = _longest(MAX_ID_LENGTH)
client_keys = _longest(MAX_KEY_LENGTH)


def _fits(key: str, limit: int) -> bool:
    return len(key.encode()) <= limit


@settings(max_examples=50)
@given(user=ids, loan=ids, application=ids, installment=ids, client_key=client_keys)
def test_every_loan_key_fits(
    user: str, loan: str, application: str, installment: str, client_key: str
) -> None:
    for rail in Rail:
        manual = require_transfer_key(manual_payment_id(loan, client_key, rail))
        autopay = require_transfer_key(autopay_payment_id(installment, 3, rail))
        disbursed = require_transfer_key(disbursement_key(user, application, rail))
        assert parse_disbursement_key(disbursed) == (user, application)
        for payment_id in (manual, autopay):
            assert "#" not in payment_id
            assert _fits(keys.loan_payment_sk(loan, payment_id), SORT_KEY_BYTES)
            assert _fits(keys.payment_pk(payment_id), PARTITION_KEY_BYTES)
    assert _fits(keys.user_pk(user), PARTITION_KEY_BYTES)
    assert _fits(keys.installment_sk(loan, installment), SORT_KEY_BYTES)
    assert _fits(keys.loan_by_application_sk(application), SORT_KEY_BYTES)
    assert _fits(keys.installment_gsi2sk(loan, dt.date(2026, 1, 5), installment), SORT_KEY_BYTES)
    lease = lock_key("collections", user_id=user, item_id=loan)
    assert _fits(keys.lock_key(lease)[0], PARTITION_KEY_BYTES)
    claim = f"make_payment:{user}:{client_key}"
    assert _fits(keys.idempotency_key(claim)[0], PARTITION_KEY_BYTES)


@settings(max_examples=50)
@given(user=ids, line=ids, client_key=client_keys)
def test_every_line_key_fits(user: str, line: str, client_key: str) -> None:
    draw = DrawFromLine(user, line, 10_000, client_key)
    draw_id = draw_id_for(draw)
    assert "#" not in draw_id
    assert _fits(keys.line_draw_sk(line, draw_id), SORT_KEY_BYTES)
    pay = PayLine(user, line, 10_000, client_key)
    for rail in Rail:
        transfer = require_transfer_key(f"{draw_id}:{rail.value}")
        parsed = parse_draw_transfer(transfer)
        assert parsed is not None
        assert (parsed.user_id, parsed.line_id, parsed.draw_id) == (user, line, draw_id)
        for payment_id in (
            require_transfer_key(pay.payment_id(rail)),
            require_transfer_key(due_payment_id(line, dt.date(2026, 1, 5), rail)),
        ):
            assert "#" not in payment_id
            assert _fits(keys.line_payment_sk(line, payment_id), SORT_KEY_BYTES)
            assert _fits(keys.payment_pk(payment_id), PARTITION_KEY_BYTES)
    assert _fits(keys.line_sk(require_id(line)), SORT_KEY_BYTES)
    lease = lock_key("due", user_id=user, item_id=line)
    assert _fits(keys.lock_key(lease)[0], PARTITION_KEY_BYTES)


def test_two_long_client_keys_make_two_draws() -> None:
    long_key = ":" * MAX_KEY_LENGTH
    user, line = ":" * MAX_ID_LENGTH, "l" * MAX_ID_LENGTH
    first = draw_id_for(DrawFromLine(user, line, 10_000, long_key))
    second = draw_id_for(DrawFromLine(user, line, 10_000, long_key[:-1] + "a"))
    assert first != second
    assert (
        draw_id_for(DrawFromLine("user-1", "line-1", 10_000, "key-1")) == "draw:user-1:line-1:key-1"
    )
