"""Ports: what the services need from the world, as `typing.Protocol`s.

Adapters implement these without inheriting from them; a typed assignment in a test
(``lock: Lock = InMemoryLock(...)``) makes mypy check that an adapter conforms. Every
method documents the semantics every adapter must share; the contract tests under
``tests/contracts`` hold each adapter to them.

One module per concern: `persistence` (repositories, unit of work, journal, audit),
`money_movement` (payment rails), `messaging` (queue, notifications, alerts),
`infrastructure` (clock, ids, locks, idempotency, flags, metrics), `people` (users,
underwriting) and `documents` (agreements and statements). Every name is importable from
``loc_core.ports``.
"""

from loc_core.ports.documents import (
    AUDIT_ARCHIVE_RETENTION_DAYS,
    JSON_LINES,
    PDF,
    AuditArchive,
    DocumentStore,
    agreement_key,
    audit_archive_key,
    statement_key,
)
from loc_core.ports.infrastructure import (
    Clock,
    FeatureFlags,
    IdempotencyRecord,
    IdempotencyStatus,
    IdempotencyStore,
    IdGenerator,
    Lease,
    Lock,
    Metrics,
    Tracer,
)
from loc_core.ports.messaging import (
    Alert,
    Alerter,
    Notifier,
    QueueMessage,
    ReceivedMessage,
    Severity,
    WorkQueue,
)
from loc_core.ports.money_movement import (
    PaymentRails,
    SettlementEvent,
    TransferRequest,
    TransferResult,
)
from loc_core.ports.people import LineDecision, LoanDecision, Underwriting, User, Users
from loc_core.ports.persistence import (
    TRANSACTION_LIMIT,
    Application,
    AuditLog,
    CreditLineApplicationRepository,
    CreditLineRepository,
    InstallmentRef,
    IntentRef,
    IntentRepository,
    JournalRepository,
    LineRef,
    LoanApplicationRepository,
    LoanRef,
    LoanRepository,
    PaymentOwner,
    RefPage,
    StatementRepository,
    UnitOfWork,
    items_written,
)

__all__ = [
    "AUDIT_ARCHIVE_RETENTION_DAYS",
    "JSON_LINES",
    "PDF",
    "TRANSACTION_LIMIT",
    "Alert",
    "Alerter",
    "Application",
    "AuditArchive",
    "AuditLog",
    "Clock",
    "CreditLineApplicationRepository",
    "CreditLineRepository",
    "DocumentStore",
    "FeatureFlags",
    "IdGenerator",
    "IdempotencyRecord",
    "IdempotencyStatus",
    "IdempotencyStore",
    "InstallmentRef",
    "IntentRef",
    "IntentRepository",
    "JournalRepository",
    "Lease",
    "LineDecision",
    "LineRef",
    "LoanApplicationRepository",
    "LoanDecision",
    "LoanRef",
    "LoanRepository",
    "Lock",
    "Metrics",
    "Notifier",
    "PaymentOwner",
    "PaymentRails",
    "QueueMessage",
    "ReceivedMessage",
    "RefPage",
    "SettlementEvent",
    "Severity",
    "StatementRepository",
    "Tracer",
    "TransferRequest",
    "TransferResult",
    "Underwriting",
    "UnitOfWork",
    "User",
    "Users",
    "WorkQueue",
    "agreement_key",
    "audit_archive_key",
    "items_written",
    "statement_key",
]
