"""Every Lambda function of the service, as data: the one list the deployment is checked against.

``template.yaml`` deploys one function per entry; ``tests/e2e/test_template.py`` checks the
template (and the stack it makes on moto) against this list, ``benchmarks/lambda_imports.py``
times the import of each module, and ``docs/deploy.md`` describes them. Nothing here imports
a handler module: the catalog says what is deployed, not how it runs.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["CATALOG", "Function", "Secret", "Trigger", "by_module"]


class Trigger(enum.Enum):
    """What invokes a function."""

    SCHEDULE = "schedule"
    """EventBridge rules at fixed UTC hours (asynchronous invocation)."""
    QUEUE = "sqs"
    """The collections SQS queue (event source mapping, partial batch responses)."""
    KINESIS = "kinesis"
    """The Kinesis stream of PayEngine's webhooks (event source mapping)."""
    TABLE_STREAM = "dynamodb"
    """The table's DynamoDB stream, filtered per function (event source mapping)."""
    HTTP_API = "http_api"
    """An API Gateway HTTP API behind its JWT authorizer (synchronous: no DLQ)."""


class Secret(enum.Enum):
    """A group of secret settings a function is given (from ``NoEcho`` parameters)."""

    PAYENGINE = "payengine"
    """``LOC_PAYENGINE_BASE_URL``, ``_API_KEY``, ``_WEBHOOK_SECRET``: functions that move
    money, look up a transfer or verify a webhook."""
    USERS = "users"
    """``LOC_USERS_BASE_URL``, ``_API_KEY``: functions that read a borrower (an applicant's
    standing, the name on a document, a PayEngine account token). Without them the
    bootstrap's in-memory users know no borrower."""
    UNDERWRITING = "underwriting"
    """``LOC_UNDERWRITING_BASE_URL``, ``_API_KEY``: the function that decides applications.
    Without them the bootstrap's simulated underwriting decides by a seeded draw."""


@attrs.frozen
class Function:
    """One Lambda function: its module, its trigger and what it may touch."""

    name: str
    """The CloudFormation logical id of the function (``CollectionsJob``)."""
    module: str
    """The module under ``loc_entrypoints.lambdas`` whose ``handler`` Lambda calls."""
    trigger: Trigger
    does: str
    """One line for the docs: the command(s) it sends."""
    schedules: tuple[str, ...] = ()
    """EventBridge schedule expressions (UTC), for `Trigger.SCHEDULE` only."""
    sends_to_queue: bool = True
    """May send messages to the collections queue (fan-out, resends of notifications)."""
    documents: bool = False
    """Reads and writes the documents bucket (statements)."""
    archive: bool = False
    """Writes the audit archive bucket."""
    scans_table: bool = False
    """Pages through every loan and line with a consistent ``Scan`` (reconciliation: the
    table has no index of every loan; ``docs/jobs.md``)."""
    secrets: frozenset[Secret] = frozenset()
    timeout_seconds: int = 60
    memory_mb: int = 512

    @property
    def handler(self) -> str:
        """The handler string of the template: ``loc_entrypoints.lambdas.<module>.handler``."""
        return f"loc_entrypoints.lambdas.{self.module}.handler"

    @property
    def import_path(self) -> str:
        """The module's dotted path, as ``import`` takes it."""
        return f"loc_entrypoints.lambdas.{self.module}"

    @property
    def dead_letter_queue(self) -> str | None:
        """The logical id of the queue where this function's failed events land.

        Scheduled jobs share the jobs' DLQ (failed asynchronous invocations), the worker
        has its queue's redrive DLQ, each stream consumer has an on-failure DLQ of its own;
        the HTTP API has none (its caller gets the error and retries with its key).
        """
        if self.trigger is Trigger.HTTP_API:
            return None
        if self.trigger is Trigger.SCHEDULE:
            return "JobsDeadLetterQueue"
        if self.trigger is Trigger.QUEUE:
            return "CollectionsDeadLetterQueue"
        return f"{self.name}DeadLetterQueue"


_MONEY = frozenset({Secret.PAYENGINE, Secret.USERS})
_PEOPLE = frozenset({Secret.USERS})
_JOB_TIMEOUT = 900  # Lambda's longest: jobs page through their work and fan out to SQS
_CONSUMER_TIMEOUT = 300
"""Holds a queue batch of 10 messages even if each one's outside calls all run to their
timeouts (PayEngine 10 s, Iterable 10 s, users 3 s by default); a stream batch that runs
out of time is bisected and retried."""

CATALOG: tuple[Function, ...] = (
    Function(
        "CollectionsJob",
        "collections_job",
        Trigger.SCHEDULE,
        "EnqueueDueInstallments: collect_installment messages to SQS, 10 per batch",
        schedules=("cron(0 15 * * ? *)",),
        timeout_seconds=_JOB_TIMEOUT,
    ),
    Function(
        "DueJob",
        "due_job",
        Trigger.SCHEDULE,
        "CollectDueMinimums (loc_due)",
        schedules=("cron(0 15 * * ? *)",),
        secrets=_MONEY,
        timeout_seconds=_JOB_TIMEOUT,
    ),
    Function(
        "BillingJob",
        "billing_job",
        Trigger.SCHEDULE,
        "BillClosedCycles (loc_billing): statements of the lines whose cycle closed",
        schedules=("cron(0 8 * * ? *)",),
        documents=True,
        secrets=_PEOPLE,
        timeout_seconds=_JOB_TIMEOUT,
        memory_mb=1024,
    ),
    Function(
        "DocumentsJob",
        "documents_job",
        Trigger.SCHEDULE,
        "RenderMissingDocuments (loc_documents): agreements and statement PDFs still missing",
        schedules=("cron(0 9 * * ? *)",),
        documents=True,
        secrets=_PEOPLE,
        scans_table=True,
        timeout_seconds=_JOB_TIMEOUT,
    ),
    Function(
        "UpcomingJob",
        "upcoming_job",
        Trigger.SCHEDULE,
        "SendUpcomingNotices (loc_upcoming)",
        schedules=("cron(0 14 * * ? *)",),
        timeout_seconds=_JOB_TIMEOUT,
    ),
    Function(
        "OverdueJob",
        "overdue_job",
        Trigger.SCHEDULE,
        "MarkOverdueLines (loc_overdue)",
        schedules=("cron(0 16 * * ? *)",),
        timeout_seconds=_JOB_TIMEOUT,
    ),
    Function(
        "DailyLoanJob",
        "daily_loan_job",
        Trigger.SCHEDULE,
        "RunDailyLoanJob: late fees, overdue, defaults",
        schedules=("cron(0 17 * * ? *)",),
        timeout_seconds=_JOB_TIMEOUT,
    ),
    Function(
        "RecoveryJob",
        "recovery_job",
        Trigger.SCHEDULE,
        "RecoverTransfers: transfers whose outcome is unknown",
        schedules=("cron(0 7 * * ? *)", "cron(45 15 * * ? *)"),
        documents=True,  # a statement's event it publishes again files the statement's PDF
        secrets=_MONEY,
        timeout_seconds=_JOB_TIMEOUT,
    ),
    Function(
        "ReconciliationJob",
        "reconciliation_job",
        Trigger.SCHEDULE,
        "pages through every loan and line: reconcile_loan / reconcile_line messages to SQS",
        schedules=("cron(0 6 * * ? *)",),
        timeout_seconds=_JOB_TIMEOUT,
        scans_table=True,
    ),
    Function(
        "CollectionsWorker",
        "collections_worker",
        Trigger.QUEUE,
        "every queue message kind (collect_installment, resend_notification,"
        " render_document, reconcile_*)",
        documents=True,
        secrets=_MONEY,
        timeout_seconds=_CONSUMER_TIMEOUT,
        scans_table=True,
    ),
    Function(
        "SettlementConsumer",
        "settlement_consumer",
        Trigger.KINESIS,
        "verifies each PayEngine webhook, SettleTransfer; a key stops at its first failure",
        secrets=_MONEY,
        timeout_seconds=_CONSUMER_TIMEOUT,
    ),
    Function(
        "TableStream",
        "table_stream",
        Trigger.TABLE_STREAM,
        "the table's one stream reader: AbandonExpired(Line)Application for TTL deletes,"
        " committed audit records to the archive, ReconcileLoan / ReconcileLine for"
        " changed loans and lines",
        archive=True,
        timeout_seconds=_CONSUMER_TIMEOUT,
    ),
    Function(
        "HttpApiFunction",
        "http",
        Trigger.HTTP_API,
        "the HTTP API (Litestar through Mangum): every route hands a command to the bus",
        documents=True,
        secrets=_MONEY | {Secret.UNDERWRITING},
        timeout_seconds=29,
        memory_mb=1024,
    ),
)
"""Every function, in the order of ``docs/deploy.md``."""


def by_module(module: str) -> Function:
    """The catalog entry of a handler module.

    Raises:
        KeyError: for a module that is not in the catalog.
    """
    for function in CATALOG:
        if function.module == module:
            return function
    raise KeyError(module)
