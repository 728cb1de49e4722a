"""Integration fixtures: moto's server on a free local port, a fresh table and queue per test.

Clients get dummy credentials, a region and the server's address in code; the botocore
session reads no configuration file and no proxy from the environment, so nothing here
can reach beyond this machine.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest
import stamina
from botocore.config import Config
from contracts.uow import UowFactory
from integration.support import CallLog, aws_session, on_table, units_of_work
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from loc_adapters.dynamodb import DynamoTable, create_table
from loc_adapters.memory import ManualClock

if TYPE_CHECKING:
    from deployment import Deployment
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

START = dt.datetime(2026, 1, 5, 16, tzinfo=dt.UTC)
_CONFIG = Config(
    proxies={},  # never the environment's proxies
    retries={"mode": "standard", "max_attempts": 2},
    connect_timeout=5,
    read_timeout=30,
)


class SerialMotoServer(ThreadedMotoServer):
    """moto's threaded server, answering one request at a time.

    DynamoDB applies each request atomically (a transaction is serialisable); moto
    checks a transaction's conditions and writes in separate steps, so two requests
    served at once could both pass the same version check. One request at a time gives
    the tests the guarantee the real service makes.
    """

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(
            environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(
            self._ip_address,
            self._port,
            one_at_a_time,
            threaded=True,
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on 127.0.0.1, on a port the system picked."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = SerialMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def no_backoff() -> Iterator[None]:
    """Retries keep their attempt counts but do not sleep between them."""
    with stamina.set_testing(True, attempts=1_000, cap=True):
        yield


@pytest.fixture(scope="session")
def dynamodb(moto_endpoint: str) -> DynamoDBClient:
    return aws_session().client("dynamodb", endpoint_url=moto_endpoint, config=_CONFIG)


@pytest.fixture(scope="session")
def sqs(moto_endpoint: str) -> SQSClient:
    return aws_session().client("sqs", endpoint_url=moto_endpoint, config=_CONFIG)


@pytest.fixture
def table(dynamodb: DynamoDBClient) -> Iterator[DynamoTable]:
    """A fresh, empty table for one test (moto copies a table in every transaction)."""
    name = f"test-{uuid.uuid4().hex[:12]}-loc-service"
    made = create_table(dynamodb, name)
    yield made
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def uow_factory(table: DynamoTable, clock: ManualClock) -> UowFactory:
    """What a services test needs to run against DynamoDB: a new unit of work per call."""
    return units_of_work(table, clock)


@pytest.fixture
def new_uow(uow_factory: UowFactory) -> UowFactory:
    """The name the unit-of-work contract asks for."""
    return uow_factory


@pytest.fixture
def storage(table: DynamoTable) -> Callable[[Deployment], Mapping[type, object]]:
    """Where a re-run unit suite's deployment stores: a fresh table (`on_table`)."""
    return lambda world: on_table(table, world.clock)


@pytest.fixture
def queue_url(sqs: SQSClient) -> Iterator[str]:
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def calls(dynamodb: DynamoDBClient, sqs: SQSClient) -> Iterator[CallLog]:
    """Every DynamoDB and SQS call made during the test."""
    log = CallLog()
    for client in (dynamodb, sqs):
        client.meta.events.register("before-call", log, unique_id="call-log")
    yield log
    for client in (dynamodb, sqs):
        client.meta.events.unregister("before-call", unique_id="call-log")
