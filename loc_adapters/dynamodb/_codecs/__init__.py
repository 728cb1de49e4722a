"""Aggregates to items and back: the keys, the attribute names and what the seeds fixed.

A loan is one root item (``LOAN#<loan>``) with its installments and payments as child
items under the same prefix; a line is one root (``LOC#<line>``) with its draws,
payments, billing-error disputes and late fee waivers. Applications, statements, journal
entries, audit records and transfer intents are single items.

Reading verifies, never trusts: a loan is rebuilt through its constructor, which runs
`Loan.verify`, so an installment whose stored outstanding balance disagrees with its
applications raises `InvariantViolation` naming the item.

Items the Go service wrote carry only the seed's attributes (and no ``loc_version``).
What this library stores besides is derived from them by the core's rules
(`loc_core.installment.legacy`, applied in `loans`); ``docs/data-model.md`` lists them.

One module per product (`loans`, `lines`), one for what every commit posts (`records`:
journal entries and audit records), one for transfer intents (`intents`) and one for
what they share (`shared`).
"""

from loc_adapters.dynamodb._codecs.intents import (
    INTENT,
    INTENT_REF,
    decode_intent,
    encode_intent,
    intent_ref,
)
from loc_adapters.dynamodb._codecs.lines import (
    CHILDREN_MARK,
    DISPUTE,
    DRAW,
    FEE_WAIVER,
    LINE,
    LINE_APPLICATION,
    LINE_HINTS,
    LINE_PAYMENT,
    STATEMENT,
    decode_line,
    decode_line_application,
    decode_statement,
    encode_line,
    encode_line_application,
    encode_statement,
    line_ref,
)
from loc_adapters.dynamodb._codecs.loans import (
    INSTALLMENT,
    LOAN,
    LOAN_APPLICATION,
    LOAN_PAYMENT,
    decode_loan,
    decode_loan_application,
    encode_loan,
    encode_loan_application,
    installment_ref,
)
from loc_adapters.dynamodb._codecs.records import (
    AUDIT_RECORD,
    JOURNAL_ENTRY,
    decode_audit_record,
    decode_journal_entry,
    encode_audit_record,
    encode_journal_entry,
)
from loc_adapters.dynamodb._codecs.shared import (
    EXPIRES_AT,
    VERSION,
    item_key,
    owned_attributes,
    payment_owner,
    ttl_seconds,
)

__all__ = [
    "AUDIT_RECORD",
    "CHILDREN_MARK",
    "DISPUTE",
    "DRAW",
    "EXPIRES_AT",
    "FEE_WAIVER",
    "INSTALLMENT",
    "INTENT",
    "INTENT_REF",
    "JOURNAL_ENTRY",
    "LINE",
    "LINE_APPLICATION",
    "LINE_HINTS",
    "LINE_PAYMENT",
    "LOAN",
    "LOAN_APPLICATION",
    "LOAN_PAYMENT",
    "SHAPES",
    "STATEMENT",
    "VERSION",
    "decode_audit_record",
    "decode_intent",
    "decode_journal_entry",
    "decode_line",
    "decode_line_application",
    "decode_loan",
    "decode_loan_application",
    "decode_statement",
    "encode_audit_record",
    "encode_intent",
    "encode_journal_entry",
    "encode_line",
    "encode_line_application",
    "encode_loan",
    "encode_loan_application",
    "encode_statement",
    "installment_ref",
    "intent_ref",
    "item_key",
    "line_ref",
    "owned_attributes",
    "payment_owner",
    "ttl_seconds",
]

SHAPES = (
    LOAN,
    INSTALLMENT,
    LOAN_PAYMENT,
    LOAN_APPLICATION,
    LINE,
    DRAW,
    LINE_PAYMENT,
    DISPUTE,
    FEE_WAIVER,
    LINE_APPLICATION,
    STATEMENT,
    JOURNAL_ENTRY,
    AUDIT_RECORD,
    INTENT,
)
"""Every stored class, for the tests that prove each field is stored."""
