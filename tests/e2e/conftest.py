"""End-to-end fixtures: the Lambda handlers' world on moto's server over HTTP.

The moto server, the clients and the no-backoff switch are the integration suite's
(imported here, so both folders share one server per session). `lambda_env` creates a
fresh table, queue and documents bucket and gives the ``LOC_*`` settings a handler's
`Runtime` reads, with dummy AWS credentials in the environment and no AWS config file,
so nothing can reach beyond this machine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from integration.conftest import _CONFIG, dynamodb, moto_endpoint, no_backoff, sqs
from integration.support import REGION, aws_session

from loc_adapters.dynamodb import create_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

__all__ = ["dynamodb", "lambda_env", "moto_endpoint", "no_backoff", "s3", "sqs"]


@pytest.fixture(scope="session")
def s3(moto_endpoint: str) -> Any:  # boto3-stubs has no S3 extra installed here
    return aws_session().client("s3", endpoint_url=moto_endpoint, config=_CONFIG)


@pytest.fixture
def lambda_env(
    moto_endpoint: str,
    dynamodb: DynamoDBClient,
    sqs: SQSClient,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """The settings of a deployment on the moto server: table, queue, documents bucket."""
    suffix = uuid.uuid4().hex[:10]
    table = create_table(dynamodb, f"test-{suffix}-loc-service")
    queue_url = sqs.create_queue(QueueName=f"collections-{suffix}")["QueueUrl"]
    bucket = f"documents-{suffix}"
    s3.create_bucket(Bucket=bucket)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "HTTP_PROXY": "",
        "HTTPS_PROXY": "",
    }.items():
        monkeypatch.setenv(name, value)
    yield {
        "LOC_BACKEND": "dynamodb",
        "LOC_TABLE_NAME": table.name,
        "LOC_QUEUE_URL": queue_url,
        "LOC_REGION": REGION,
        "LOC_ENDPOINT_URL": moto_endpoint,
        "LOC_S3_DOCUMENTS_BUCKET": bucket,
        "LOC_S3_ENDPOINT_URL": moto_endpoint,
        "LOC_LOG_LEVEL": "INFO",
        # moto answers one request at a time and copies the table in every transaction: on
        # a busy machine a call may wait longer than AWS's answer ever takes (the clients'
        # own config, as the integration fixtures' _CONFIG)
        "LOC_AWS_READ_TIMEOUT_SECONDS": "30",
        # no outside service is configured here: simulated, as a test stack may choose
        "LOC_STAND_INS": "simulated",
    }
    dynamodb.delete_table(TableName=table.name)
    sqs.delete_queue(QueueUrl=queue_url)
