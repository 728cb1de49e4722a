"""The bootstrap: the one place that builds a deployment's adapters and wires the bus.

`Settings` says which deployment (read from ``LOC_*`` environment variables by
`Settings.from_env`); `bootstrap` builds each adapter once, registers it under its port's
type, and returns the `MessageBus` every entrypoint hands its commands to. With no
settings at all it builds the embedded default: every port in memory, the simulated
rails, the machine's clock. Tests and the simulation pass `overrides` to put their own
adapter under a port (a manual clock, a rail fake); everything built after it uses it.

``docs/configuration.md`` lists every setting with its default.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar, cast

import attrs

from loc_adapters.memory import (
    InMemoryDatabase,
    InMemoryIdempotencyStore,
    InMemoryLock,
    InMemoryQueue,
    InMemoryUnitOfWork,
    InMemoryUsers,
    RecordingAlerter,
    RecordingNotifier,
    SequentialIds,
    SimulatedRails,
    SimulatedUnderwriting,
    StaticFeatureFlags,
)
from loc_adapters.system import SystemClock
from loc_core.creditline import CreditLineProduct
from loc_core.errors import InvalidConfiguration
from loc_core.installment import InstallmentProduct
from loc_core.ports import (
    Alerter,
    Clock,
    FeatureFlags,
    IdempotencyStore,
    IdGenerator,
    Lock,
    Notifier,
    PaymentRails,
    Underwriting,
    UnitOfWork,
    Users,
    WorkQueue,
)
from loc_core.services.handlers import EVENT_HANDLERS, HANDLERS, MESSAGES, STARTUP_CHECKS
from loc_core.services.messagebus import MessageBus

__all__ = ["ENV_PREFIX", "Backend", "Settings", "bootstrap"]

ENV_PREFIX = "LOC_"
"""Every setting is read from an environment variable with this prefix."""

T = TypeVar("T")


class _Provide(Protocol):
    def __call__(self, port: type[T], build: Callable[[], object]) -> T: ...


class Backend(enum.Enum):
    """Where the deployment keeps its state."""

    MEMORY = "memory"
    """In this process: tests, the simulation, an embedded library."""
    DYNAMODB = "dynamodb"
    """The single DynamoDB table shared with the Go service, and SQS for work."""


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise InvalidConfiguration(f"{attribute.name} must be a whole number >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class Settings:
    """What differs between deployments; the defaults are the embedded one."""

    backend: Backend = Backend.MEMORY
    """``LOC_BACKEND``: ``memory`` or ``dynamodb``."""
    table_name: str = "dev-loc-service"
    """``LOC_TABLE_NAME``: the DynamoDB table (the Go service names it ``{env}-loc-service``)."""
    queue_url: str = ""
    """``LOC_QUEUE_URL``: the SQS queue of the collections work; required with dynamodb."""
    region: str = "us-east-1"
    """``LOC_REGION``: the AWS region of the table and the queue."""
    endpoint_url: str = ""
    """``LOC_ENDPOINT_URL``: a local DynamoDB/SQS endpoint (moto, DynamoDB Local); empty
    for AWS itself."""
    shards: int = attrs.field(default=1, validator=_positive)
    """``LOC_SHARDS``: write shards of the hot index partitions (1: the seed's keys)."""
    rail_seed: int = 0
    """``LOC_RAIL_SEED``: the seed of the simulated rails and underwriting."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read every ``LOC_*`` variable of `environ`; absent ones keep their default.

        Raises:
            InvalidConfiguration: naming the variable, for an unknown ``LOC_`` variable
                or a value that cannot be used.
        """
        known = {f"{ENV_PREFIX}{field.name.upper()}": field for field in attrs.fields(cls)}
        values: dict[str, object] = {}
        for name, text in environ.items():
            if not name.startswith(ENV_PREFIX):
                continue
            field = known.get(name)
            if field is None:
                raise InvalidConfiguration(
                    f"unknown setting {name}; the settings are {', '.join(sorted(known))}"
                )
            values[field.name] = _parse(name, text, field.type)
        settings = cls(**values)  # type: ignore[arg-type]  # values are parsed per field type
        if settings.backend is Backend.DYNAMODB and not settings.queue_url:
            raise InvalidConfiguration(f"{ENV_PREFIX}QUEUE_URL is required with dynamodb")
        return settings


def _parse(name: str, text: str, kind: object) -> object:
    """One variable's text as its field's type."""
    if kind in {Backend, "Backend"}:
        try:
            return Backend(text.strip().lower())
        except ValueError:
            choices = ", ".join(b.value for b in Backend)
            raise InvalidConfiguration(f"{name} must be one of {choices}, got {text!r}") from None
    if kind in {int, "int"}:
        try:
            return int(text.strip())
        except ValueError:
            raise InvalidConfiguration(f"{name} must be a whole number, got {text!r}") from None
    return text.strip()


def bootstrap(
    settings: Settings | None = None, *, overrides: Mapping[type, object] | None = None
) -> MessageBus:
    """Build the deployment `settings` describe and return its message bus.

    Each port gets one adapter, registered under the port's type; an adapter in
    `overrides` is used instead of the one the settings would build, and adapters built
    later (a lock, a queue, rails) use the overridden clock.
    """
    settings = settings or Settings()
    ports = _Ports(dict(overrides or {}))
    provide = ports.provide
    clock = provide(Clock, SystemClock)
    if settings.backend is Backend.MEMORY:
        database = provide(InMemoryDatabase, lambda: InMemoryDatabase(clock))
        provide(UnitOfWork, lambda: InMemoryUnitOfWork(database))
        provide(Lock, lambda: InMemoryLock(clock, leases=database.leases))
        provide(IdempotencyStore, InMemoryIdempotencyStore)
        provide(WorkQueue, lambda: InMemoryQueue(clock))
        provide(IdGenerator, SequentialIds)
    else:
        _provide_aws(settings, clock, provide)
    provide(PaymentRails, lambda: SimulatedRails(clock, seed=settings.rail_seed))
    provide(Users, InMemoryUsers)
    provide(Underwriting, lambda: SimulatedUnderwriting(seed=settings.rail_seed))
    provide(Notifier, RecordingNotifier)
    provide(Alerter, RecordingAlerter)
    provide(FeatureFlags, StaticFeatureFlags)
    provide(InstallmentProduct, InstallmentProduct)
    provide(CreditLineProduct, CreditLineProduct)
    return MessageBus(
        dependencies=ports.registered,
        handlers=HANDLERS,
        event_handlers=EVENT_HANDLERS,
        messages=MESSAGES,
        startup_checks=STARTUP_CHECKS,
    )


@attrs.define
class _Ports:
    """The adapters registered so far, by port type."""

    registered: dict[type, object]

    def provide(self, port: type[T], build: Callable[[], object]) -> T:
        """The adapter for `port`: the one given, else the one `build` makes now."""
        if port not in self.registered:
            self.registered[port] = build()
        return cast("T", self.registered[port])


def _provide_aws(settings: Settings, clock: Clock, provide: _Provide) -> None:
    """The DynamoDB table and the SQS queue, with boto3 clients built once here."""
    import boto3  # noqa: PLC0415 - the aws extra is only needed by this backend

    from loc_adapters.dynamodb import (  # noqa: PLC0415 - same
        DynamoIdempotencyStore,
        DynamoIds,
        DynamoLock,
        DynamoTable,
        DynamoUnitOfWork,
    )
    from loc_adapters.sqs import SqsWorkQueue  # noqa: PLC0415 - same

    endpoint = settings.endpoint_url or None
    dynamodb = boto3.client("dynamodb", region_name=settings.region, endpoint_url=endpoint)
    sqs = boto3.client("sqs", region_name=settings.region, endpoint_url=endpoint)
    table = DynamoTable(dynamodb, settings.table_name, shards=settings.shards)
    provide(UnitOfWork, lambda: DynamoUnitOfWork(table, clock=clock))
    provide(Lock, lambda: DynamoLock(table, clock=clock))
    provide(IdempotencyStore, lambda: DynamoIdempotencyStore(table))
    provide(IdGenerator, lambda: DynamoIds(table))
    provide(WorkQueue, lambda: SqsWorkQueue(sqs, settings.queue_url))
