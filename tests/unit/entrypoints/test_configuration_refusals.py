"""What an operator sees for settings the deployment cannot use, on every command.

The audit archive takes the ``LOC_S3_*`` encryption and endpoint without a documents
bucket; a features file that is not a GrowthBook payload, a JWKS URL that is not a URL,
and a failed start-up check are refused naming the variable, by ``loc serve`` exactly as
by ``loc job run``, before the server listens. Adapters are built, never called.
"""

import datetime as dt
import json
import os
import pathlib
import subprocess
import sys

import pytest
from click.testing import CliRunner

from loc_adapters.memory import InMemoryDocumentStore, ManualClock
from loc_adapters.s3 import Encryption, S3DocumentStore
from loc_core.errors import InvalidConfiguration
from loc_core.ports import AuditArchive, Clock, DocumentStore
from loc_entrypoints.bootstrap import Settings, bootstrap
from loc_entrypoints.cli import main

CLOCK = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))
LOC = pathlib.Path(sys.executable).with_name("loc")
"""This environment's ``loc`` command."""
PAYENGINE_TOO_SLOW = {
    "LOC_PAYENGINE_BASE_URL": "https://payengine.example",
    "LOC_PAYENGINE_API_KEY": "pe-key",
    "LOC_PAYENGINE_WEBHOOK_SECRET": "pe-secret",
    "LOC_PAYENGINE_TIMEOUT": "100",  # longer than a payment lease allows: a start-up check fails
}


def loc(*arguments: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``loc`` with only `environ`'s LOC_* settings; a server that starts is a failure."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("LOC_")}
    return subprocess.run(  # noqa: S603 - this environment's loc, fixed arguments
        [str(LOC), *arguments],
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def error_line(output: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith("Error:")]
    return line


@pytest.mark.parametrize(
    "environ",
    [
        {"LOC_S3_ENCRYPTION": "aws:kms", "LOC_S3_KMS_KEY_ID": "alias/audit"},
        {"LOC_S3_ENDPOINT_URL": "http://127.0.0.1:9"},
    ],
)
def test_the_audit_archive_alone_takes_the_s3_settings(environ: dict[str, str]) -> None:
    settings = Settings.from_env({"LOC_AUDIT_ARCHIVE_BUCKET": "archive", **environ})
    bus = bootstrap(settings, overrides={Clock: CLOCK})
    archive = bus.get(AuditArchive)
    assert isinstance(archive, S3DocumentStore)
    assert archive.bucket == "archive"
    assert archive.encryption is Encryption(settings.s3_encryption)
    assert archive.kms_key_id == (environ.get("LOC_S3_KMS_KEY_ID") or None)
    endpoint = archive.client.meta.endpoint_url  # type: ignore[attr-defined]  # boto3 client
    assert endpoint == environ.get("LOC_S3_ENDPOINT_URL", endpoint)
    assert isinstance(bus.get(DocumentStore), InMemoryDocumentStore)  # no documents bucket


def test_loc_job_run_works_with_an_encrypted_archive_and_no_documents_bucket() -> None:
    done = loc(
        "job",
        "run",
        "recovery_job",
        environ={"LOC_AUDIT_ARCHIVE_BUCKET": "archive", "LOC_S3_ENCRYPTION": "aws:kms"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["job"] == "recovery_job"


@pytest.mark.parametrize(
    "option",
    [
        {"LOC_S3_ENCRYPTION": "aws:kms"},
        {"LOC_S3_KMS_KEY_ID": "alias/x"},
        {"LOC_S3_ENDPOINT_URL": "http://127.0.0.1:9"},
    ],
)
def test_an_s3_setting_without_either_bucket_names_both(option: dict[str, str]) -> None:
    with pytest.raises(InvalidConfiguration) as refused:
        Settings.from_env(option)
    message = str(refused.value)
    assert "LOC_S3_DOCUMENTS_BUCKET or LOC_AUDIT_ARCHIVE_BUCKET is required" in message
    assert next(iter(option)) in message


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("[]", "must be a JSON object, got an array"),
        ('"beta"', "must be a JSON object, got a string"),
        ('{"features": 5}', "features must be an object of flags, got a number"),
        ('{"features": []}', "features must be an object of flags, got an array"),
        ('{"features": {"beta": true}}', "features.beta must be a feature object"),
        ('{"beta": null}', "beta must be a feature object, got null"),
        ('{"beta": {"rules": {}}}', "beta.rules must be a list, got an object"),
        ('{"features": {"beta": {"rules": [5]}}}', "features.beta.rules[0] must be a rule object"),
        (
            '{"beta": {"rules": [{"condition": "id == 7"}]}}',
            "beta.rules[0].condition must be an object, got a string",
        ),
        ("{features: 1}", "is not a GrowthBook features file"),
    ],
)
def test_a_features_file_of_the_wrong_shape_is_refused_naming_the_variable_and_the_file(
    tmp_path: pathlib.Path, content: str, where: str
) -> None:
    path = tmp_path / "flags.json"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["job", "run", "recovery_job"], env={"LOC_GROWTHBOOK_FEATURES_FILE": str(path)}
    )
    assert result.exit_code == 1
    line = error_line(result.output)
    assert line.startswith(
        f"Error: cannot build the deployment: LOC_GROWTHBOOK_FEATURES_FILE={path} "
    )
    assert where in line
    with pytest.raises(InvalidConfiguration) as refused:
        bootstrap(Settings(growthbook_features_file=str(path)), overrides={Clock: CLOCK})
    assert refused.value.key == "LOC_GROWTHBOOK_FEATURES_FILE"


def test_a_missing_features_file_names_the_variable_and_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "gone.json"
    with pytest.raises(InvalidConfiguration) as refused:
        bootstrap(Settings(growthbook_features_file=str(path)), overrides={Clock: CLOCK})
    assert str(refused.value) == (
        f"LOC_GROWTHBOOK_FEATURES_FILE={path} cannot be read (No such file or directory)"
    )


@pytest.mark.parametrize("url", ["notaurl", "ftp://keys.example/jwks.json", "https://"])
def test_a_jwks_url_that_is_not_http_is_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(InvalidConfiguration, match="LOC_JWT_JWKS_URL must be an http") as refused:
        Settings.from_env({"LOC_JWT_JWKS_URL": url})
    assert refused.value.key == "LOC_JWT_JWKS_URL"


def test_a_jwks_url_over_https_is_taken() -> None:
    url = "https://auth.example/.well-known/jwks.json"
    issuer = "https://auth.example/"
    settings = Settings.from_env({"LOC_JWT_JWKS_URL": url, "LOC_JWT_ISSUER": issuer})
    assert settings.jwt_jwks_url == url


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (PAYENGINE_TOO_SLOW, "give the payment rails a timeout of at most"),
        ({"LOC_JWT_JWKS_URL": "notaurl"}, "LOC_JWT_JWKS_URL must be an http(s) URL"),
        ({"LOC_S3_ENCRYPTION": "aws:kms"}, "LOC_AUDIT_ARCHIVE_BUCKET is required"),
    ],
)
def test_loc_serve_reports_a_deployment_it_cannot_build_as_loc_job_run_does(
    environ: dict[str, str], message: str
) -> None:
    served = loc("serve", "--port", "18777", environ=environ)
    job = loc("job", "run", "recovery_job", environ=environ)
    assert served.returncode == job.returncode == 1
    assert "Traceback" not in served.stderr
    line = error_line(served.stderr)
    assert line.startswith("Error: cannot build the deployment: ")
    assert message in line
    assert line == error_line(job.stderr)
    assert "pe-secret" not in served.stderr
    assert "pe-key" not in served.stderr


def test_loc_serve_without_a_way_to_verify_callers_says_so() -> None:
    served = loc(
        "serve",
        "--port",
        "18778",
        environ={"LOC_BACKEND": "dynamodb", "LOC_QUEUE_URL": "http://127.0.0.1:9/q"},
    )
    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    assert error_line(served.stderr).startswith("Error: cannot serve the HTTP API: ")
