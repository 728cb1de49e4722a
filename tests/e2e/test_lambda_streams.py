"""The event-source functions end to end: DynamoDB, SQS and S3 on the moto server.

Each handler gets a batch shaped as AWS delivers it (`lambda_events`) and the test
asserts the exact ``batchItemFailures`` and the state after. The deployment's bus is the
bootstrap's over the moto table, with a manual clock, simulated rails (so settlement
events can be made) and approving underwriting; the functions run on it (`Runtime.use`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from deployment import LOANS_OPENED, QUIET
from integration.support import aws_session
from lambda_events import (
    TTL_IDENTITY,
    batch,
    keys_of,
    kinesis_ids,
    kinesis_record,
    sqs_ids,
    sqs_record,
    stream_record,
)

from loc_adapters.memory import (
    InMemoryUsers,
    ManualClock,
    RecordingAlerter,
    SimulatedRails,
    SimulatedUnderwriting,
)
from loc_adapters.sqs import encode
from loc_core.applications import ApplicationStatus
from loc_core.installment import Loan
from loc_core.ledger import JournalEntry
from loc_core.payments import Direction, PaymentStatus, SettlementOutcome
from loc_core.ports import (
    AUDIT_ARCHIVE_RETENTION_DAYS,
    Alerter,
    Clock,
    PaymentRails,
    SettlementEvent,
    Severity,
    Underwriting,
    UnitOfWork,
    Users,
)
from loc_core.services.commands import (
    AcceptOffer,
    ApplyForLine,
    ApplyForLoan,
    CollectInstallment,
    GetLoan,
    MakePayment,
    SettleTransfer,
)
from loc_core.services.messagebus import MessageBus
from loc_entrypoints.bootstrap import Settings, bootstrap
from loc_entrypoints.lambdas import (
    collections_worker,
    replay,
    settlement_consumer,
    table_stream,
)
from loc_entrypoints.lambdas.replay import replay_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytest.importorskip("aws_lambda_powertools", reason="the lambda extra is not installed")
payengine = pytest.importorskip("loc_adapters.payengine", reason="the payengine extra")

SECRET = b"whsec-e2e"


@attrs.define
class World:
    """The deployment on moto and what the tests reach into."""

    bus: MessageBus
    clock: ManualClock
    sim: SimulatedRails
    users: InMemoryUsers
    table: str
    archive_bucket: str

    def open_loans(self, *user_ids: str) -> list[Loan]:
        """A loan for each borrower accepted now, the disbursements settled a week later."""
        loans = []
        for user_id in user_ids:
            self.users.add(user_id)
            application = self.bus.handle(ApplyForLoan(user_id, 30_000, f"apply-{user_id}"))
            loans.append(self.bus.handle(AcceptOffer(user_id, application.application_id)))
        self.clock.advance(dt.timedelta(days=7))
        for event in self.sim.due_events():
            self.bus.handle(SettleTransfer(event))
        return loans

    def open_loan(self, user_id: str) -> Loan:
        (loan,) = self.open_loans(user_id)
        return loan

    def pay(self, loan: Loan, *keys: str) -> tuple[list[str], list[SettlementEvent]]:
        """Payments of 50.00 under `keys`, and a week later the rail's completions of them."""
        paid = [
            self.bus.handle(MakePayment(loan.user_id, loan.loan_id, 5_000, key)).payment_id
            for key in keys
        ]
        self.clock.advance(dt.timedelta(days=7))
        events = {event.idempotency_key: event for event in self.sim.due_events()}
        return paid, [events[payment_id] for payment_id in paid]

    def loan(self, loan: Loan) -> Loan:
        return self.bus.handle(GetLoan(loan.user_id, loan.loan_id))

    def journal(self, owner_id: str) -> list[JournalEntry]:
        with self.bus.get(UnitOfWork) as uow:
            return list(uow.journal.entries_for(owner_id))

    def alerts(self, severity: Severity) -> list[str]:
        alerter = self.bus.get(Alerter)
        assert isinstance(alerter, RecordingAlerter)
        return [alert.title for alert in alerter.posted if alert.severity is severity]


@pytest.fixture
def world(lambda_env: dict[str, str], s3: Any) -> World:
    archive = f"audit-archive-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=archive)
    settings = Settings.from_env({**lambda_env, "LOC_AUDIT_ARCHIVE_BUCKET": archive})
    clock = ManualClock(LOANS_OPENED)
    sim = SimulatedRails(clock, behaviour=QUIET)
    users = InMemoryUsers()
    bus = bootstrap(
        settings,
        overrides={
            Clock: clock,
            PaymentRails: sim,
            Users: users,
            Underwriting: SimulatedUnderwriting(
                loan_approval_probability=1,
                line_approval_probability=1,
                fee_percent=Decimal(5),
                line_limits=(100_000,),
            ),
            payengine.WebhookVerifier: payengine.WebhookVerifier(SECRET, clock),
        },
    )
    return World(bus, clock, sim, users, settings.table_name, archive)


def run_on(module: Any, world: World) -> None:
    module.RUNTIME.use(world.bus)


# --- SQS: the collections worker ------------------------------------------------------


def test_an_sqs_batch_with_a_poison_message_collects_the_rest_and_fails_only_the_poison(
    world: World,
) -> None:
    run_on(collections_worker, world)
    loans = world.open_loans(*(f"user-{n}-{uuid.uuid4().hex[:6]}" for n in range(2)))
    due = loans[0].installments[0].due_date
    world.clock.set(dt.datetime.combine(due, dt.time(15, tzinfo=dt.UTC)))
    good = [
        sqs_record(
            encode(
                CollectInstallment(
                    loan.user_id,
                    loan.loan_id,
                    loan.installments[0].installment_id,
                    loan.installments[0].due_date,
                ).message(due)
            )
        )
        for loan in loans
    ]
    poison = sqs_record('{"kind": "collect_installment"')
    answer = collections_worker.handler(batch(good[0], poison, good[1]), None)
    assert answer == {"batchItemFailures": sqs_ids(poison)}
    for loan in loans:
        (payment,) = world.loan(loan).payments.values()
        assert payment.amount == loan.installments[0].total_amount


# --- Kinesis: the settlement consumer -------------------------------------------------


def arrived(world: World, event: SettlementEvent, key: str) -> dict[str, Any]:
    """The record of a webhook the endpoint put on the stream now."""
    now = world.clock.now()
    return kinesis_record(webhook(event, now), partition_key=key, arrived_at=now)


def webhook(event: SettlementEvent, signed_at: dt.datetime) -> bytes:
    body = json.dumps(payengine.contract.webhook_body(event, Direction.DEBIT)).encode()
    stamp, signature = payengine.contract.sign(SECRET, signed_at, body)
    headers = {
        payengine.contract.HEADER_TIMESTAMP: stamp,
        payengine.contract.HEADER_SIGNATURE: signature,
    }
    return settlement_consumer.envelope(headers, body)


def test_a_kinesis_batch_settles_once_through_a_duplicate_a_reversal_and_a_malformed_record(
    world: World,
) -> None:
    run_on(settlement_consumer, world)
    loan = world.open_loan(f"user-{uuid.uuid4().hex[:8]}")
    (paid_a, paid_b), (completed_a, completed_b) = world.pay(loan, "pay-a", "pay-b")
    disputed_b = attrs.evolve(  # pinless: disputed rather than returned
        completed_b,
        event_id=f"{completed_b.event_id}-dispute",
        outcome=SettlementOutcome.CHARGED_BACK,
    )
    key = loan.loan_id
    a_once = arrived(world, completed_a, key)
    a_again = arrived(world, completed_a, key)
    b_dispute = arrived(world, disputed_b, key)
    b_late_completion = arrived(world, completed_b, key)
    malformed = kinesis_record(b"{not an envelope", partition_key=key, arrived_at=world.clock.now())
    answer = settlement_consumer.handler(
        batch(a_once, a_again, b_dispute, b_late_completion, malformed), None
    )
    assert answer == {"batchItemFailures": []}
    payments = world.loan(loan).payments
    assert payments[paid_a].status is PaymentStatus.COMPLETED
    assert payments[paid_b].status is PaymentStatus.CHARGED_BACK  # the late completion: nothing
    assert world.loan(loan).outstanding_balance == loan.outstanding_balance - 5_000
    # The malformed record, and the dispute: a chargeback that gives no reason stops autopay.
    assert sorted(world.alerts(Severity.WARNING)) == [
        "Batch record refused",
        (
            f"autopay stopped on loan {loan.loan_id}: a return reason this library does not "
            "know: reviewed by hand"
        ),
    ]
    assert not world.loan(loan).autopay_enabled
    entries = world.journal(loan.loan_id)
    redelivered = settlement_consumer.handler(
        batch(a_once, a_again, b_dispute, b_late_completion), None
    )  # Lambda delivers the batch again: settlement is idempotent by event id
    assert redelivered == {"batchItemFailures": []}
    assert world.journal(loan.loan_id) == entries
    assert world.loan(loan).payments == payments


def test_a_kinesis_record_that_fails_holds_back_the_later_records_of_its_key(
    world: World,
) -> None:
    run_on(settlement_consumer, world)
    loan = world.open_loan(f"user-{uuid.uuid4().hex[:8]}")
    (payment_id,), (completion,) = world.pay(loan, "pay-c")
    unknown = attrs.evolve(completion, event_id="evt-unknown", idempotency_key="pay-unknown")
    first = arrived(world, unknown, loan.loan_id)
    held = arrived(world, completion, loan.loan_id)
    answer = settlement_consumer.handler(batch(first, held), None)
    # No loan records the first transfer (NotFound, alerted): retried, and the completion
    # behind it on the same key waits for it rather than overtaking it.
    assert answer == {"batchItemFailures": kinesis_ids(first, held)}
    assert world.loan(loan).payments[payment_id].status is PaymentStatus.PENDING
    assert len(world.alerts(Severity.CRITICAL)) == 1
    world.clock.advance(dt.timedelta(hours=1))  # Lambda retries from the failed record
    answer = settlement_consumer.handler(batch(held), None)
    assert answer == {"batchItemFailures": []}  # its replay window ran at its arrival
    assert world.loan(loan).payments[payment_id].status is PaymentStatus.COMPLETED


# --- DynamoDB Streams ----------------------------------------------------------------


def items(dynamodb: DynamoDBClient, world: World, user_id: str, prefix: str) -> list[Any]:
    found = dynamodb.query(
        TableName=world.table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": f"USER#{user_id}"}, ":sk": {"S": prefix}},
        ConsistentRead=True,
    )["Items"]
    return list(found)


def test_a_streams_batch_abandons_the_ttl_removals_only(
    world: World, dynamodb: DynamoDBClient
) -> None:
    run_on(table_stream, world)
    first, second = (f"user-{n}-{uuid.uuid4().hex[:6]}" for n in range(2))
    for user_id in (first, second):
        world.users.add(user_id)
        world.bus.handle(ApplyForLoan(user_id, 30_000, "apply-loan"))
        world.bus.handle(ApplyForLine(user_id, "apply-line"))
    (loan_app,) = items(dynamodb, world, first, "LOANAPP#")
    (line_app,) = items(dynamodb, world, second, "LOCAPP#")
    (deleted,) = items(dynamodb, world, second, "LOANAPP#")
    world.clock.advance(dt.timedelta(days=3))  # the offers expired unaccepted
    newer = {"loc_note": {"S": "kept"}, "loc_terms": {"M": {"tier": {"N": "2"}}}}
    for item in (loan_app, line_app):  # a newer release wrote what this one does not read
        item.update(newer)
    loan_app["loc_installment_schedule"]["L"][0]["M"]["apr_share"] = {"S": "0.1"}
    for item in (loan_app, line_app, deleted):  # what the TTL and the user did to the table
        dynamodb.delete_item(TableName=world.table, Key=keys_of(item))
    ttl_loan, ttl_line = (
        stream_record("REMOVE", keys=keys_of(item), old=item, user_identity=TTL_IDENTITY)
        for item in (loan_app, line_app)
    )
    user_delete = stream_record("REMOVE", keys=keys_of(deleted), old=deleted)
    modify = stream_record("MODIFY", keys=keys_of(loan_app), old=loan_app, new=loan_app)
    answer = table_stream.handler(batch(ttl_loan, user_delete, modify, ttl_line), None)
    assert answer == {"batchItemFailures": []}
    with world.bus.get(UnitOfWork) as uow:
        loan_status = uow.loan_applications.get(first, loan_app["loc_loan_application_id"]["S"])
        line_status = uow.line_applications.get(second, line_app["SK"]["S"].removeprefix("LOCAPP#"))
    assert loan_status.status is line_status.status is ApplicationStatus.ABANDONED
    (loan_back,) = items(dynamodb, world, first, "LOANAPP#")
    (line_back,) = items(dynamodb, world, second, "LOCAPP#")
    for back in (loan_back, line_back):  # written back whole: the newer attributes too
        assert {name: back[name] for name in newer} == newer
        assert "ttl" not in back
    assert loan_back["loc_installment_schedule"]["L"][0]["M"]["apr_share"] == {"S": "0.1"}
    assert items(dynamodb, world, second, "LOANAPP#") == []  # the user's delete stands
    assert world.alerts(Severity.WARNING) == []


def test_a_streams_batch_reconciles_changed_balances_and_alerts_a_mismatch(
    world: World, dynamodb: DynamoDBClient
) -> None:
    run_on(table_stream, world)
    loan = world.open_loan(f"user-{uuid.uuid4().hex[:8]}")
    (before,) = [
        item
        for item in items(dynamodb, world, loan.user_id, "LOAN#")
        if item["SK"]["S"] == f"LOAN#{loan.loan_id}"
    ]
    stored = int(before["loc_outstanding_balance"]["N"])
    after = {**before, "loc_outstanding_balance": {"N": str(stored - 1)}}  # a corrupt write
    dynamodb.put_item(TableName=world.table, Item=after)
    changed = stream_record("MODIFY", keys=keys_of(before), old=before, new=after)
    unchanged = stream_record("MODIFY", keys=keys_of(before), old=before, new=before)
    inserted = stream_record("INSERT", keys=keys_of(before), new=before)
    answer = table_stream.handler(batch(changed, unchanged, inserted), None)
    assert answer == {"batchItemFailures": []}
    # One reconciliation (the changed record's), and ReconcileLoan alerted its mismatch.
    assert world.alerts(Severity.CRITICAL) == [f"loan {loan.loan_id} does not reconcile"]


def test_a_streams_batch_archives_each_audit_record_once_encrypted_by_date(
    world: World, dynamodb: DynamoDBClient, s3: Any
) -> None:
    run_on(table_stream, world)
    loan = world.open_loan(f"user-{uuid.uuid4().hex[:8]}")
    audit = dynamodb.query(
        TableName=world.table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#loan#{loan.loan_id}"}},
    )["Items"]
    record = audit[0]
    inserted = stream_record("INSERT", keys=keys_of(record), new=record)
    again = stream_record("INSERT", keys=keys_of(record), new=record)
    not_audit = {"PK": {"S": "USER#x"}, "SK": {"S": "LOAN#y"}}
    other = stream_record("INSERT", keys=not_audit, new=not_audit)
    answer = table_stream.handler(batch(inserted, again, other), None)
    assert answer == {"batchItemFailures": []}
    listed = s3.list_objects_v2(Bucket=world.archive_bucket)["Contents"]
    record_id = record["loc_record_id"]["S"]
    day = record["loc_recorded_at"]["S"][:10]
    assert [o["Key"] for o in listed] == [f"audit/date={day}/{record_id}.jsonl"]
    stored = s3.get_object(Bucket=world.archive_bucket, Key=listed[0]["Key"])
    assert stored["ServerSideEncryption"] == "AES256"
    (line,) = stored["Body"].read().decode().splitlines()
    assert json.loads(line)["loc_record_id"] == record_id
    assert AUDIT_ARCHIVE_RETENTION_DAYS == 2_555


# --- a batch given up on, replayed from its dead-letter record ---------------------------


def failure_record(info_key: str, arn: str, shard: str, first: str, last: str) -> dict[str, Any]:
    """What Lambda sends a stream mapping's on-failure queue: the batch's place, no record."""
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:test-loc-consumer",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 11,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        info_key: {
            "shardId": shard,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "batchSize": 1,
            "streamArn": arn,
        },
    }


def test_a_settlement_given_up_on_is_replayed_from_its_dead_letter_record_on_time(
    world: World,
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_on(settlement_consumer, world)
    loan = world.open_loan(f"user-{uuid.uuid4().hex[:8]}")
    (paid, later), (completed, completed_later) = world.pay(loan, "pay-r", "pay-s")
    kinesis = aws_session().client("kinesis", endpoint_url=moto_endpoint)
    name = f"webhooks-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    def put(event: SettlementEvent) -> Any:
        """The endpoint puts a webhook PayEngine signed just now on the stream."""
        data = webhook(event, dt.datetime.now(dt.UTC))
        return kinesis.put_record(StreamName=name, Data=data, PartitionKey=loan.loan_id)

    given_up = put(completed)  # its retries ran out while the table was unreachable
    put(completed_later)  # a later batch, applied in its turn
    failure = failure_record(
        "KinesisBatchInfo",
        arn,
        given_up["ShardId"],
        given_up["SequenceNumber"],
        given_up["SequenceNumber"],
    )

    event = replay_event(failure, client=kinesis)

    assert [record["kinesis"]["sequenceNumber"] for record in event["Records"]] == [
        given_up["SequenceNumber"]
    ]
    message = tmp_path / "message.json"  # as `aws sqs receive-message` prints one message
    message.write_text(json.dumps({"MessageId": "m-1", "Body": json.dumps(failure)}))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    assert replay.main([str(message)]) == 0
    assert json.loads(capsys.readouterr().out) == event  # the runbook's command
    assert settlement_consumer.handler(event, None) == {"batchItemFailures": []}
    payments = world.loan(loan).payments
    assert payments[paid].status is PaymentStatus.COMPLETED
    assert payments[later].status is PaymentStatus.PENDING
    assert world.alerts(Severity.WARNING) == []  # verified as of its arrival: not stale


def test_an_audit_batch_given_up_on_is_replayed_from_the_table_stream(
    world: World, s3: Any, moto_endpoint: str
) -> None:
    run_on(table_stream, world)
    streams = aws_session().client("dynamodbstreams", endpoint_url=moto_endpoint)
    (described,) = streams.list_streams(TableName=world.table)["Streams"]
    arn = described["StreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    world.open_loan(f"user-{uuid.uuid4().hex[:8]}")
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    written = streams.get_records(ShardIterator=iterator)["Records"]
    audits = [r for r in written if r["dynamodb"]["Keys"]["PK"]["S"].startswith("AUDIT#")]
    first, last = audits[0], audits[-1]
    failure = failure_record(
        "DDBStreamBatchInfo",
        arn,
        shard["ShardId"],
        first["dynamodb"]["SequenceNumber"],
        last["dynamodb"]["SequenceNumber"],
    )

    event = replay_event(failure, client=streams)

    assert table_stream.handler(event, None) == {"batchItemFailures": []}
    listed = s3.list_objects_v2(Bucket=world.archive_bucket)["Contents"]
    assert len(listed) == len(audits)
    assert world.alerts(Severity.WARNING) == []


@pytest.mark.parametrize(
    ("content", "said"),
    [
        pytest.param("{", "cannot read", id="not-json"),
        pytest.param("[1]", "is not an on-failure record", id="not-an-object"),
        pytest.param('{"Body": "[]"}', "is not an on-failure record", id="sqs-body-not-a-record"),
        pytest.param('{"Records": []}', "no KinesisBatchInfo or DDBStreamBatchInfo", id="event"),
        pytest.param(
            '{"KinesisBatchInfo": {"streamArn": "arn:aws:kinesis:us-east-1:1:stream/s"}}',
            "is not a whole on-failure record: KeyError('shardId')",
            id="no-shard",
        ),
    ],
)
def test_the_replay_tool_refuses_a_file_it_cannot_use_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, said: str
) -> None:
    failure = tmp_path / "failure.json"
    failure.write_text(content)
    assert replay.main([str(failure)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert said in err
    assert len(err.splitlines()) == 1


def test_the_replay_tool_names_a_file_it_cannot_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert replay.main([str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
