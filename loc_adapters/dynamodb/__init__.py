"""The DynamoDB adapters: one table (``{env}-loc-service``) shared with the Go service.

- `DynamoUnitOfWork`: repositories for loans, lines, applications, statements, transfer
  intents, the journal and the audit log; one commit is one `TransactWriteItems`.
- `DynamoLock`: the lease lock with heartbeat and fencing token.
- `DynamolockLock`: the same port in ``cirello.io/dynamolock/v2``'s lock table, shared
  with the Go service's workers during a cutover (`create_lock_table` makes one).
- `DynamoIdempotencyStore`: idempotency records with TTL.
- `DynamoEventOutbox`: the domain events commits kept until they are published.
- `DynamoIds`: uuid4 ids and ``FM-000001`` loan numbers from an atomic counter.
- `create_table` makes the table as production has it; `expired_application` (`expired_item`
  with the removed item as stored),
  `inserted_audit_record` and `balance_reconciliation` read the table's stream records.

Every item type, key and query is in ``docs/data-model.md``.
"""

from loc_adapters.dynamodb._dynamolock import DynamolockLock, create_lock_table
from loc_adapters.dynamodb._idempotency import DynamoIdempotencyStore
from loc_adapters.dynamodb._ids import DynamoIds
from loc_adapters.dynamodb._lock import DynamoLock
from loc_adapters.dynamodb._outbox import DynamoEventOutbox
from loc_adapters.dynamodb._streams import (
    ATTRIBUTE_VALUES,
    balance_reconciliation,
    expired_application,
    expired_item,
    inserted_audit_record,
)
from loc_adapters.dynamodb._table import DynamoTable, create_table, table_name
from loc_adapters.dynamodb._uow import DynamoUnitOfWork

__all__ = [
    "ATTRIBUTE_VALUES",
    "DynamoEventOutbox",
    "DynamoIdempotencyStore",
    "DynamoIds",
    "DynamoLock",
    "DynamoTable",
    "DynamoUnitOfWork",
    "DynamolockLock",
    "balance_reconciliation",
    "create_lock_table",
    "create_table",
    "expired_application",
    "expired_item",
    "inserted_audit_record",
    "table_name",
]
