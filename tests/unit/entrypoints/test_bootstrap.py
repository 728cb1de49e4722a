"""The bootstrap: settings from the environment, and the deployment they describe."""

import datetime as dt

import pytest

from loc_adapters.dynamodb import (
    DynamoIdempotencyStore,
    DynamoLock,
    DynamolockLock,
    DynamoUnitOfWork,
)
from loc_adapters.dynamodb._keys import MAX_SHARDS as TABLE_MAX_SHARDS
from loc_adapters.memory import InMemoryUnitOfWork, InMemoryUsers, ManualClock
from loc_adapters.sqs import SqsVisibility, SqsWorkQueue
from loc_core.applications import ApplicationStatus
from loc_core.errors import InvalidConfiguration
from loc_core.ports import (
    Clock,
    IdempotencyStore,
    Lock,
    MessageVisibility,
    UnitOfWork,
    Users,
    WorkQueue,
)
from loc_core.services.commands import AcceptOffer, ApplyForLoan, GetLoan
from loc_entrypoints.bootstrap import MAX_SHARDS, Backend, Settings, bootstrap

DYNAMO_ENV = {
    "LOC_BACKEND": "dynamodb",
    "LOC_TABLE_NAME": "prod-loc-service",
    "LOC_QUEUE_URL": "http://127.0.0.1:1/000000000000/collections",
    "LOC_REGION": "us-west-2",
    "LOC_ENDPOINT_URL": "http://127.0.0.1:1",
    "LOC_SHARDS": "4",
}


def test_no_settings_is_the_embedded_default() -> None:
    assert Settings.from_env({"HOME": "/root", "PATH": "/bin"}) == Settings()
    assert Settings().backend is Backend.MEMORY


def test_every_setting_is_read_from_its_variable() -> None:
    settings = Settings.from_env(DYNAMO_ENV)
    assert settings == Settings(
        backend=Backend.DYNAMODB,
        table_name="prod-loc-service",
        queue_url="http://127.0.0.1:1/000000000000/collections",
        region="us-west-2",
        endpoint_url="http://127.0.0.1:1",
        shards=4,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOC_BACKEND": "postgres"}, "LOC_BACKEND must be one of memory, dynamodb"),
        ({"LOC_SHARDS": "four"}, "LOC_SHARDS must be a whole number"),
        ({"LOC_SHARDS": "0"}, r"LOC_SHARDS \(shards\) must be a whole number >= 1"),
        ({"LOC_TABLE": "x"}, "unknown setting LOC_TABLE"),
        ({"LOC_BACKEND": "dynamodb"}, "LOC_QUEUE_URL is required"),
        ({**DYNAMO_ENV, "LOC_LOCK_BACKEND": "redis"}, "LOC_LOCK_BACKEND must be one of table"),
        ({**DYNAMO_ENV, "LOC_LOCK_BACKEND": "dynamolock"}, "LOC_DYNAMOLOCK_TABLE is required"),
        ({**DYNAMO_ENV, "LOC_DYNAMOLOCK_TABLE": "locks"}, "need LOC_LOCK_BACKEND=dynamolock"),
        ({"LOC_LOCK_BACKEND": "dynamolock", "LOC_DYNAMOLOCK_TABLE": "l"}, "needs dynamodb"),
        ({**DYNAMO_ENV, "LOC_REGION": ""}, "LOC_REGION must be an AWS region such as us-east-1"),
        ({"LOC_REGION": "US East"}, "LOC_REGION must be an AWS region.*'US East'"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        Settings.from_env(environ)


def test_the_dynamodb_backend_registers_the_table_and_queue_adapters() -> None:
    bus = bootstrap(Settings.from_env(DYNAMO_ENV))  # builds clients; makes no call yet
    assert isinstance(bus.get(UnitOfWork), DynamoUnitOfWork)
    assert isinstance(bus.get(Lock), DynamoLock)
    assert isinstance(bus.get(IdempotencyStore), DynamoIdempotencyStore)
    assert isinstance(bus.get(WorkQueue), SqsWorkQueue)
    assert isinstance(bus.get(MessageVisibility), SqsVisibility)


def test_the_dynamolock_backend_shares_the_go_services_lock_table() -> None:
    environ = {**DYNAMO_ENV, "LOC_LOCK_BACKEND": "dynamolock", "LOC_DYNAMOLOCK_TABLE": "locks"}
    bus = bootstrap(Settings.from_env({**environ, "LOC_DYNAMOLOCK_PARTITION_KEY": "lockID"}))
    lock = bus.get(Lock)
    assert isinstance(lock, DynamolockLock)
    assert (lock.table_name, lock.partition_key) == ("locks", "lockID")
    uow = bus.get(UnitOfWork)
    assert isinstance(uow, DynamoUnitOfWork)
    assert uow.lease_check == lock.lease_check  # fenced commits check the lock table


def test_an_override_is_used_and_what_is_built_after_it_uses_it_too() -> None:
    clock = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))
    users = InMemoryUsers()
    users.add("user-1", active=True)
    bus = bootstrap(overrides={Clock: clock, Users: users})
    assert isinstance(bus.get(UnitOfWork), InMemoryUnitOfWork)
    offer = bus.handle(ApplyForLoan("user-1", 30_000, "key-1"))
    assert offer.status is ApplicationStatus.APPROVED
    assert offer.expires_at == clock.now() + dt.timedelta(hours=24)
    loan = bus.handle(AcceptOffer("user-1", offer.application_id))
    assert bus.handle(GetLoan("user-1", loan.loan_id)).disbursement_date == clock.now().date()


def test_a_shard_count_no_table_would_take_is_refused_naming_its_variable() -> None:
    with pytest.raises(InvalidConfiguration, match="LOC_SHARDS must be at most 64"):
        Settings.from_env({**DYNAMO_ENV, "LOC_SHARDS": "65"})
    assert MAX_SHARDS == TABLE_MAX_SHARDS  # the settings refuse what the table would
