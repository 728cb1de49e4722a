"""Every key of the single table, in one place.

Loans, installments and loan applications use the keys the original Go service wrote
(see the seeds and ``docs/data-model.md``); everything else follows the same style. Ids
are refused when they contain ``#``, the separator of key parts, so a key always splits
back into the ids it was made of.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from loc_core.errors import InvariantViolation

__all__ = [
    "GSI_ATTRIBUTES",
    "INTENTS_OPEN",
    "LINES_TO_WATCH",
    "LINE_DUE_DATES",
    "MAX_SHARDS",
    "SHARD_COUNT_ATTRIBUTE",
    "after_children",
    "audit_pk",
    "audit_process_pk",
    "audit_sk",
    "audit_time_sk",
    "audit_user_pk",
    "belongs_to",
    "counter_key",
    "cycle_day_pk",
    "idempotency_key",
    "installment_gsi1sk",
    "installment_gsi2sk",
    "installment_sk",
    "installment_status_pk",
    "intent_key",
    "intent_open_sk",
    "journal_pk",
    "journal_sk",
    "line_application_sk",
    "line_dispute_sk",
    "line_draw_sk",
    "line_due_sk",
    "line_fee_waiver_sk",
    "line_payment_sk",
    "line_sk",
    "line_watch_sk",
    "loan_application_sk",
    "loan_by_application_sk",
    "loan_date_sk",
    "loan_payment_sk",
    "loan_sk",
    "loan_status_pk",
    "lock_key",
    "partitions",
    "payment_pk",
    "shard_count_key",
    "sharded",
    "statement_sk",
    "statements_prefix",
    "storable",
    "user_pk",
]

GSI_ATTRIBUTES = ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK")
"""The index key attributes; an item without them is not in that index (sparse indexes)."""


def storable(value: object) -> bool:
    """Whether `value` can be one part of a key: a non-empty string without ``#``.

    Nothing is ever stored under an id that is not, so a read for one finds nothing.
    """
    return isinstance(value, str) and bool(value) and "#" not in value


def part(value: str, *, what: str) -> str:
    """`value` as one part of a key: refused when empty or containing ``#``."""
    if not storable(value):
        raise InvariantViolation(
            f"{what} {value!r} cannot be stored: ids are non-empty, no '#'",
            key=what,
            invariant="storable_id",
        )
    return value


def user_pk(user_id: str) -> str:
    """The partition of everything a borrower owns: ``USER#<user_id>``."""
    return f"USER#{part(user_id, what='user id')}"


# --- installment loans (seed keys) ---------------------------------------------------


def loan_sk(loan_id: str) -> str:
    """``LOAN#<loan_id>``: the loan item, and the prefix of its installments and payments."""
    return f"LOAN#{part(loan_id, what='loan id')}"


def installment_sk(loan_id: str, installment_id: str) -> str:
    """``LOAN#<loan_id>#INSTALLMENT#<installment_id>``."""
    return f"{loan_sk(loan_id)}#INSTALLMENT#{part(installment_id, what='installment id')}"


def loan_payment_sk(loan_id: str, payment_id: str) -> str:
    """``LOAN#<loan_id>#PAYMENT#<payment_id>``: under the loan, so one query loads both."""
    return f"{loan_sk(loan_id)}#PAYMENT#{part(payment_id, what='payment id')}"


def loan_status_pk(user_id: str, status: str) -> str:
    """GSI1PK of a loan: ``USER#<user_id>#STATUS#<loan_status>``."""
    return f"{user_pk(user_id)}#STATUS#{status}"


def loan_date_sk(created: str, loan_id: str) -> str:
    """GSI1SK and GSI2SK of a loan: ``LOAN#DATE#<created_date>#LOAN#<loan_id>``."""
    return f"LOAN#DATE#{created}#{loan_sk(loan_id)}"


def loan_by_application_sk(application_id: str) -> str:
    """GSI3SK of a loan: ``LOAN#LOANAPP#<loan_application_id>``."""
    return f"LOAN#{loan_application_sk(application_id)}"


def sharded(base: str, item_id: str, shards: int) -> str:
    """`base`, or with ``#<n>`` when the index is spread over `shards` partitions.

    A stable hash (SHA-256) of the item's id picks the shard, so an item never moves
    between shards while the rest of its key stays.
    """
    if shards == 1:
        return base
    digest = hashlib.sha256(item_id.encode()).digest()
    return f"{base}#{int.from_bytes(digest[:8], 'big') % shards}"


def partitions(base: str, shards: int) -> list[str]:
    """Every partition of a sharded index key: one per shard, and the unsharded one.

    A sharded table also reads `base` itself, where the Go service and a table written
    before sharding keep their items.
    """
    if shards == 1:
        return [base]
    return [*(f"{base}#{shard}" for shard in range(shards)), base]


MAX_SHARDS = 64
"""The most shards a table may spread an index over: a read of a sharded index is one
query a shard (plus the unsharded partition), so more would make every job's read slow."""

SHARD_COUNT_ATTRIBUTE = "loc_shards"
"""The attribute of `shard_count_key`'s item: the largest shard count any writer used."""


def shard_count_key() -> tuple[str, str]:
    """PK and SK of the table's shard record: ``META#INDEX_SHARDS``, ``META``.

    One item per table holds the largest shard count any writer of the table has used
    (`SHARD_COUNT_ATTRIBUTE`), so a reader configured with fewer shards still reads every
    partition an item may be in. ``META#`` is a prefix neither the Go service (``USER#``)
    nor this library's other items use, and the item has no index keys.
    """
    return ("META#INDEX_SHARDS", "META")


def installment_status_pk(status: str) -> str:
    """GSI1PK of an installment before sharding: ``INSTALLMENT#STATUS#<status>`` (the seed's)."""
    return f"INSTALLMENT#STATUS#{status}"


def installment_gsi1sk(due_date: dt.date, installment_id: str) -> str:
    """GSI1SK of an installment: ``DUEDATE#<due_date>#INSTALLMENT#<installment_id>``."""
    return f"DUEDATE#{due_date.isoformat()}#INSTALLMENT#{installment_id}"


def installment_gsi2sk(loan_id: str, due_date: dt.date, installment_id: str) -> str:
    """GSI2SK of an installment: ``LOAN#<loan_id>#DUEDATE#<due_date>#INSTALLMENT#<id>``."""
    return f"{loan_sk(loan_id)}#DUEDATE#{due_date.isoformat()}#INSTALLMENT#{installment_id}"


def loan_application_sk(application_id: str) -> str:
    """``LOANAPP#<loan_application_id>``."""
    return f"LOANAPP#{part(application_id, what='application id')}"


def payment_pk(payment_id: str) -> str:
    """GSI3PK of a loan or line payment: ``PAYMENT#<payment_id>``, to find its owner."""
    return f"PAYMENT#{part(payment_id, what='payment id')}"


# --- lines of credit ---------------------------------------------------------------


def line_application_sk(application_id: str) -> str:
    """``LOCAPP#<application_id>``."""
    return f"LOCAPP#{part(application_id, what='application id')}"


def line_sk(line_id: str) -> str:
    """``LOC#<line_id>``: the line item, and the prefix of its draws, payments, statements."""
    return f"LOC#{part(line_id, what='line id')}"


def line_draw_sk(line_id: str, draw_id: str) -> str:
    """``LOC#<line_id>#DRAW#<draw_id>``."""
    return f"{line_sk(line_id)}#DRAW#{part(draw_id, what='draw id')}"


def line_payment_sk(line_id: str, payment_id: str) -> str:
    """``LOC#<line_id>#PAYMENT#<payment_id>``."""
    return f"{line_sk(line_id)}#PAYMENT#{part(payment_id, what='payment id')}"


def line_dispute_sk(line_id: str, dispute_id: str) -> str:
    """``LOC#<line_id>#DISPUTE#<dispute_id>``: a billing-error dispute, read with its line."""
    return f"{line_sk(line_id)}#DISPUTE#{part(dispute_id, what='dispute id')}"


def line_fee_waiver_sk(line_id: str, late_fee_cycle: dt.date) -> str:
    """``LOC#<line_id>#FEEWAIVER#<late_fee_cycle>``: the waiver of that cycle's late fee.

    One a cycle at most (a line charges one late fee a missed cycle), read with its line:
    ``FEEWAIVER`` sorts before ``STATEMENT``, where the line's one query stops.
    """
    return f"{line_sk(line_id)}#FEEWAIVER#{late_fee_cycle.isoformat()}"


def statements_prefix(line_id: str) -> str:
    """``LOC#<line_id>#STATEMENT#``: the prefix of a line's statements."""
    return f"{line_sk(line_id)}#STATEMENT#"


def statement_sk(line_id: str, statement_date: dt.date) -> str:
    """``LOC#<line_id>#STATEMENT#<statement_date>``."""
    return f"{statements_prefix(line_id)}{statement_date.isoformat()}"


def cycle_day_pk(cycle_day: int) -> str:
    """GSI1PK of a line that is not CLOSED: ``LOC#CYCLEDAY#<dd>``."""
    return f"LOC#CYCLEDAY#{cycle_day:02d}"


LINE_DUE_DATES = "LOC#DUEDATE"
"""GSI2PK of a line with a due date, before sharding: one key, so any date range is one query."""


LINES_TO_WATCH = "LOC#OVERDUE"
"""GSI3PK of a line the overdue job must look at, before sharding (a sparse index)."""


def line_watch_sk(since: dt.date, line_id: str) -> str:
    """GSI3SK of a watched line: ``WATCH#<first day to look>#LOC#<line_id>``."""
    return f"WATCH#{since.isoformat()}#{line_sk(line_id)}"


def line_due_sk(due_date: dt.date, line_id: str) -> str:
    """GSI2SK of a line: ``DUEDATE#<due_date>#LOC#<line_id>``."""
    return f"DUEDATE#{due_date.isoformat()}#{line_sk(line_id)}"


# --- transfer intents ---------------------------------------------------------------


def intent_key(intent_id: str) -> tuple[str, str]:
    """PK and SK of a transfer intent: ``INTENT#<intent_id>``, ``INTENT``.

    Keyed by the intent id alone, so a settlement event that knows only a transfer key
    finds its intent with one consistent `GetItem`; the owner is checked on the item.
    """
    return (f"INTENT#{part(intent_id, what='intent id')}", "INTENT")


INTENTS_OPEN = "INTENT#OPEN"
"""GSI2PK of an open intent, before sharding (a sparse index: finished intents leave it)."""


def intent_account_pk(account_id: str) -> str:
    """GSI3PK of an open intent: ``INTENT#PENDING#<account_id>``.

    A sparse index: an intent leaves it once finished (booked or abandoned, its events
    published and its held settlement events applied). One partition per loan, line or
    application. The name is the one it had when only PENDING intents were in it, so the
    items written then are found.
    """
    return f"INTENT#PENDING#{part(account_id, what='account id')}"


def intent_open_sk(created: str, intent_id: str) -> str:
    """GSI2SK of an open intent: ``<created_at, fixed-width RFC3339>#<intent_id>``."""
    return f"{created}#{part(intent_id, what='intent id')}"


# --- ledger, audit and infrastructure ------------------------------------------------


def journal_pk(reference: str) -> str:
    """``JOURNAL#<loan or line id>``: one partition holds every entry of a loan or line."""
    return f"JOURNAL#{part(reference, what='journal reference')}"


def journal_sk(entry_id: str) -> str:
    """``ENTRY#<entry_id>``: the key is the entry id, so an entry can be posted once."""
    return f"ENTRY#{entry_id}"


def audit_pk(entity: str, entity_id: str) -> str:
    """``AUDIT#<entity>#<entity_id>``: one partition per audited entity."""
    return f"AUDIT#{entity}#{entity_id}"


def audit_sk(version: int, position: int, record_id: str) -> str:
    """``RECORD#<aggregate version>#<position>#<record_id>``, in the order of the changes.

    The version of the aggregate the commit wrote orders commits (they are serialised
    by the version condition, whatever the clocks of the writers say); the position
    orders the changes of one commit.
    """
    return f"RECORD#{version:010d}#{position:04d}#{record_id}"


def audit_user_pk(user_id: str) -> str:
    """GSI1PK of an audit record: ``AUDIT#USER#<user_id>``, one partition per borrower."""
    return f"AUDIT#USER#{part(user_id, what='user id')}"


def audit_process_pk(process: str) -> str:
    """GSI2PK of an audit record before sharding: ``AUDIT#PROCESS#<process>``."""
    return f"AUDIT#PROCESS#{part(process, what='process')}"


def audit_time_sk(recorded_at: str, version: int, position: int, record_id: str) -> str:
    """GSI1SK and GSI2SK of an audit record: ``<recorded_at>#RECORD#<version>#<position>#<id>``.

    `recorded_at` is fixed-width RFC3339, so string order is time order; the rest is the
    record's `audit_sk`, which orders the changes of one commit and makes the key unique.
    """
    return f"{recorded_at}#{audit_sk(version, position, record_id)}"


def idempotency_key(key: str) -> tuple[str, str]:
    """PK and SK of an idempotency record: ``IDEMPOTENCY#<key>``, ``IDEMPOTENCY``."""
    return (f"IDEMPOTENCY#{key}", "IDEMPOTENCY")


def lock_key(key: str) -> tuple[str, str]:
    """PK and SK of a lease: ``LOCK#<key>``, ``LOCK``."""
    return (f"LOCK#{key}", "LOCK")


def counter_key(name: str) -> tuple[str, str]:
    """PK and SK of an atomic counter: ``COUNTER#<name>``, ``COUNTER``."""
    return (f"COUNTER#{name}", "COUNTER")


# --- reading an aggregate with one query ----------------------------------------------


def after_children(root_sk: str) -> str:
    """The upper bound of ``SK BETWEEN <root> AND <bound>`` that reads a root and its children.

    ``$`` follows ``#`` in byte order, so the range holds the root and every
    ``<root>#...`` child but not ``<root>0...``: another loan whose id merely starts
    with this one's (the seed's ``begins_with`` would read it too).
    """
    return f"{root_sk}$"


def belongs_to(sk: str, root_sk: str) -> bool:
    """Whether an item with sort key `sk` is the root `root_sk` or one of its children."""
    return sk == root_sk or sk.startswith(f"{root_sk}#")
