"""An AWS endpoint that accepts connections and never answers fails a call within its bound.

botocore's defaults (60 s to read, 5 attempts) held such a call for about four minutes;
every client the library builds (DynamoDB, SQS, S3, and the replay tool's Kinesis and
DynamoDB Streams) takes ``LOC_AWS_*`` timeouts and attempts instead. The bound is tested
with one-second settings, not by waiting it out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import local_http
import pytest

from loc_core.errors import ExternalServiceError
from loc_core.ports import DocumentStore, IdGenerator, UnitOfWork, WorkQueue
from loc_entrypoints.bootstrap import (
    Backend,
    Settings,
    StandIns,
    aws_client,
    bootstrap,
    check_storage,
)
from loc_entrypoints.lambdas import replay


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A local endpoint that accepts every connection and never answers."""
    with local_http.silent() as (url, _connected):
        yield url


@pytest.fixture(autouse=True)
def offline_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Dummy credentials, no configuration file, no proxy: nothing leaves this machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp_path}/no-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp_path}/no-credentials")
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(proxy, raising=False)


def _settings(endpoint: str, **timeouts: int) -> Settings:
    return Settings(
        backend=Backend.DYNAMODB,
        queue_url=f"{endpoint}/123456789012/work",
        endpoint_url=endpoint,
        stand_ins=StandIns.SIMULATED,
        **timeouts,  # type: ignore[arg-type]  # the LOC_AWS_* fields, all ints
    )


def test_a_silent_dynamodb_fails_a_command_within_the_configured_bound(
    silent_endpoint: str,
) -> None:
    settings = _settings(silent_endpoint, aws_read_timeout_seconds=1, aws_max_attempts=1)
    bus = bootstrap(settings)
    started = time.monotonic()
    with pytest.raises(ExternalServiceError, match="Read timeout"):
        bus.get(IdGenerator).next_loan_number()
    assert time.monotonic() - started < 3  # one attempt of 1 s, not botocore's 60 s x 5


def test_the_start_up_table_check_is_bounded_too(silent_endpoint: str) -> None:
    settings = _settings(silent_endpoint, aws_read_timeout_seconds=1, aws_max_attempts=1)
    started = time.monotonic()
    with pytest.raises(ExternalServiceError):
        check_storage(settings)
    assert time.monotonic() - started < 3


def test_every_aws_client_takes_the_settings_timeouts_and_attempts() -> None:
    settings = Settings(
        backend=Backend.DYNAMODB,
        queue_url="http://127.0.0.1:9/123456789012/work",
        endpoint_url="http://127.0.0.1:9",
        s3_documents_bucket="documents",
        stand_ins=StandIns.SIMULATED,
        aws_connect_timeout_seconds=4,
        aws_read_timeout_seconds=7,
        aws_max_attempts=2,
    )
    bus = bootstrap(settings)
    clients = {
        "dynamodb": bus.get(UnitOfWork).table.client,  # type: ignore[attr-defined]  # DynamoUnitOfWork
        "sqs": bus.get(WorkQueue)._client,  # type: ignore[attr-defined]  # SqsWorkQueue's client
        "s3": bus.get(DocumentStore).client,  # type: ignore[attr-defined]  # S3DocumentStore
    }
    for service, client in clients.items():
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (4, 7), service
        assert config.retries == {"mode": "standard", "total_max_attempts": 2}, service
    assert clients["s3"].meta.config.signature_version == "s3v4"
    for stream in ("kinesis", "dynamodbstreams"):  # the replay tool's, in the ARN's region
        client = aws_client(stream, settings, region="eu-west-1")
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (4, 7), stream
        assert config.retries == {"mode": "standard", "total_max_attempts": 2}, stream
        assert client.meta.region_name == "eu-west-1", stream


_STREAMS = {
    "KinesisBatchInfo": "arn:aws:kinesis:us-east-1:123456789012:stream/test-loc-webhooks",
    "DDBStreamBatchInfo": (
        "arn:aws:dynamodb:us-east-1:123456789012:table/test-loc-service/stream/2026-01-01T00:00:00"
    ),
}
_STREAM_ENDPOINTS = {
    "KinesisBatchInfo": "AWS_ENDPOINT_URL",  # Kinesis has no LOC_* endpoint: botocore's own
    "DDBStreamBatchInfo": "LOC_ENDPOINT_URL",  # the table's stream, where the table is
}


@pytest.mark.parametrize(
    "batch",
    [
        pytest.param("KinesisBatchInfo", id="kinesis"),
        pytest.param("DDBStreamBatchInfo", id="dynamodb-streams"),
    ],
)
def test_the_replay_tool_gives_up_on_a_silent_stream_within_the_bound(
    silent_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    batch: str,
) -> None:
    """The runbook's replay command fails in one line within LOC_AWS_*, not botocore's minutes."""
    info = {
        "shardId": "shardId-00000001767225600000-0a1b2c3d",
        "startSequenceNumber": "100000000000000000001",
        "endSequenceNumber": "100000000000000000002",
        "streamArn": _STREAMS[batch],
    }
    failure = tmp_path / "failure.json"
    failure.write_text(json.dumps({batch: info}))
    monkeypatch.setenv(_STREAM_ENDPOINTS[batch], silent_endpoint)
    monkeypatch.setenv("LOC_AWS_READ_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("LOC_AWS_MAX_ATTEMPTS", "1")
    exits: list[int] = []
    run = threading.Thread(target=lambda: exits.append(replay.main([str(failure)])), daemon=True)
    started = time.monotonic()
    run.start()
    run.join(timeout=5)  # botocore's defaults would hold it about five minutes
    assert exits == [1], "the replay tool still waited on the silent stream after 5 s"
    assert time.monotonic() - started < 3  # one attempt of 1 s
    err = capsys.readouterr().err
    assert "cannot read the stream" in err
    assert "Read timeout" in err
    assert len(err.splitlines()) == 1


def test_the_defaults_bound_a_call_to_eighteen_seconds() -> None:
    settings = Settings()
    attempts = settings.aws_max_attempts
    one = settings.aws_connect_timeout_seconds + settings.aws_read_timeout_seconds
    backoff = sum(2**n for n in range(attempts - 1))  # standard mode: at most 1 s, 2 s, ...
    assert attempts * one + backoff == 18  # docs/configuration.md; under the API's 29 s
