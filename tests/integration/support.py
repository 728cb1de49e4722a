"""Helpers the integration tests share: an isolated AWS session, units of work on a table,
and a log of AWS calls."""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.session
from contracts.uow import UowFactory
from deployment import Deployment

from loc_adapters.dynamodb import (
    DynamoEventOutbox,
    DynamoIdempotencyStore,
    DynamoLock,
    DynamoTable,
    DynamoUnitOfWork,
)
from loc_core.ports import Clock, EventOutbox, IdempotencyStore, Lock, UnitOfWork
from loc_core.services.messagebus import MessageBus

REGION = "us-east-1"


def aws_session() -> boto3.session.Session:
    """A session that reads neither ~/.aws nor credentials from the environment."""
    core = botocore.session.Session()
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    return boto3.session.Session(
        botocore_session=core,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
        region_name=REGION,
    )


def units_of_work(table: DynamoTable, clock: Clock) -> UowFactory:
    """A new DynamoDB unit of work on `table` per call, as a use case gets them."""

    def make() -> UnitOfWork:
        return DynamoUnitOfWork(table, clock=clock)

    return make


def on_table(table: DynamoTable, clock: Clock) -> dict[type, object]:
    """The ports a deployment keeps in `table`: its unit of work, leases and event outbox.

    They go together: a booking's commit checks its lease's fencing token in the table.
    """
    return {
        UnitOfWork: DynamoUnitOfWork(table, clock=clock),
        Lock: DynamoLock(table, clock=clock),
        EventOutbox: DynamoEventOutbox(table),
    }


def kept_in(table: DynamoTable, world: Deployment, *, records: bool = False) -> Deployment:
    """`world` with `on_table`'s ports (with `records`, its idempotency records) in `table`."""
    stored = on_table(table, world.clock)
    if records:
        stored[IdempotencyStore] = DynamoIdempotencyStore(table)
    for port, adapter in stored.items():
        world = world.using(port, adapter)
    return world


def second_process(world: Deployment, table: DynamoTable) -> MessageBus:
    """Another process's bus on the same table: its own unit of work, the same clock."""
    return world.bus.replacing({UnitOfWork: on_table(table, world.clock)[UnitOfWork]})


class CallLog:
    """The AWS operations a client made, in order, seen through botocore's events."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(str(model.name))

    def count(self, operation: str) -> int:
        return self.operations.count(operation)

    def clear(self) -> None:
        self.operations.clear()
