"""`S3DocumentStore` on the moto server over HTTP: the document store contract, then what
S3 itself must hold (server-side encryption, content type) and how failures map."""

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.config import Config
from contracts.documents import AGREEMENT, DocumentStoreContract
from integration.support import aws_session

from loc_adapters.s3 import Encryption, S3DocumentStore
from loc_core.errors import ExternalServiceError, InvalidConfiguration, NotFound
from loc_core.ports import DOCUMENT_LINK_LIFETIME, PDF, DocumentStore

_CONFIG = Config(
    proxies={}, retries={"mode": "standard", "max_attempts": 2}, signature_version="s3v4"
)


@pytest.fixture(scope="session")
def s3(moto_endpoint: str) -> Any:
    return aws_session().client("s3", endpoint_url=moto_endpoint, config=_CONFIG)


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = f"docs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)  # us-east-1: no location constraint
    yield name
    for listed in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=listed["Key"])
    s3.delete_bucket(Bucket=name)


class TestS3DocumentStore(DocumentStoreContract):
    @pytest.fixture
    def documents(self, s3: Any, bucket: str) -> DocumentStore:
        return S3DocumentStore(s3, bucket)


def test_an_object_is_encrypted_with_aes256_and_typed_by_default(s3: Any, bucket: str) -> None:
    S3DocumentStore(s3, bucket).put(AGREEMENT, b"%PDF-1.4", content_type=PDF)
    head = s3.head_object(Bucket=bucket, Key=AGREEMENT)
    assert (head["ServerSideEncryption"], head["ContentType"]) == ("AES256", PDF)


def test_kms_encryption_names_its_key(s3: Any, bucket: str) -> None:
    store = S3DocumentStore(s3, bucket, encryption=Encryption.KMS, kms_key_id="alias/loc-docs")
    store.put(AGREEMENT, b"%PDF-1.4", content_type=PDF)
    head = s3.head_object(Bucket=bucket, Key=AGREEMENT)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith("alias/loc-docs")
    assert store.get(AGREEMENT) == b"%PDF-1.4"


def test_a_kms_key_without_kms_encryption_is_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(InvalidConfiguration):
        S3DocumentStore(s3, bucket, kms_key_id="alias/loc-docs")


def test_a_missing_bucket_is_a_service_error_not_a_missing_document(s3: Any) -> None:
    store = S3DocumentStore(s3, f"absent-{uuid.uuid4().hex[:12]}")
    with pytest.raises(ExternalServiceError) as failed:
        store.get(AGREEMENT)
    assert not isinstance(failed.value, NotFound)
    assert failed.value.entity_id == AGREEMENT


def test_an_unreachable_endpoint_is_a_service_error() -> None:
    closed = aws_session().client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        config=Config(proxies={}, retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(ExternalServiceError, match="unreachable"):
        S3DocumentStore(closed, "docs").put(AGREEMENT, b"x", content_type=PDF)


def test_a_link_is_a_presigned_get_that_downloads_the_document(s3: Any, bucket: str) -> None:
    store = S3DocumentStore(s3, bucket)
    body = b"%PDF-1.4\n" + bytes(range(256))
    store.put(AGREEMENT, body, content_type=PDF)
    link = store.link(AGREEMENT, expires=DOCUMENT_LINK_LIFETIME)
    assert link is not None
    query = httpx.URL(link).params
    assert query["X-Amz-Expires"] == "600"
    assert "X-Amz-Signature" in query
    downloaded = httpx.get(link, trust_env=False)
    assert downloaded.status_code == 200
    assert (downloaded.content, downloaded.headers["content-type"]) == (body, PDF)


def test_a_link_lives_as_long_as_asked(s3: Any, bucket: str) -> None:
    store = S3DocumentStore(s3, bucket)
    store.put(AGREEMENT, b"%PDF-1.4", content_type=PDF)
    link = store.link(AGREEMENT, expires=dt.timedelta(minutes=5))
    assert link is not None
    assert httpx.URL(link).params["X-Amz-Expires"] == "300"
