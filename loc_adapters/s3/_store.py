"""The `DocumentStore` on S3: one object per document, encrypted at rest, typed.

Every ``PutObject`` asks for server-side encryption (``AES256``, S3-managed keys, or
``aws:kms`` with an optional key id) and sets the content type. A missing object is
`NotFound`; any other S3 or transport failure is `ExternalServiceError` (botocore's own
retry configuration, on the injected client, decides how often a call is retried).

A link is a presigned ``GetObject`` URL (SigV4: build the client with
``signature_version="s3v4"``), signed locally once a ``HeadObject`` shows the object
exists. ``HeadObject`` answers a bare 404 for a missing bucket too, so a misnamed bucket
gives no link rather than an error (``get`` still tells the two apart).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import attrs
from botocore.exceptions import BotoCoreError, ClientError

from loc_core.errors import ExternalServiceError, InvalidConfiguration, NotFound
from loc_core.ports import check_link_lifetime

__all__ = ["Encryption", "S3DocumentStore"]

_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
"""Error codes S3 gives for an object that does not exist."""


class Encryption(enum.StrEnum):
    """Server-side encryption of the stored objects (``x-amz-server-side-encryption``)."""

    AES256 = "AES256"
    """S3-managed keys (SSE-S3)."""
    KMS = "aws:kms"
    """Keys in AWS KMS (SSE-KMS); the bucket's default KMS key unless a key id is given."""


class _S3Objects(Protocol):
    """The calls of a boto3 S3 client this store makes (typed loosely: no S3 stubs)."""

    def put_object(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - boto3's untyped API
        """Store an object."""
        ...

    def get_object(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - boto3's untyped API
        """Read an object."""
        ...

    def head_object(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - boto3's untyped API
        """Read an object's metadata."""
        ...

    def generate_presigned_url(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - same
        """Sign a request locally, without calling S3."""
        ...


@contextmanager
def _mapped(key: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _MISSING:
            raise NotFound(f"no document {key}", entity="document", entity_id=key) from exc
        raise ExternalServiceError(
            f"S3 failed on {key}: {code}", entity="document", entity_id=key
        ) from exc
    except BotoCoreError as exc:
        raise ExternalServiceError(
            f"S3 unreachable for {key}: {type(exc).__name__}", entity="document", entity_id=key
        ) from exc


@attrs.frozen
class S3DocumentStore:
    """`DocumentStore` on one S3 bucket, keys as `loc_core.ports.documents` makes them."""

    client: _S3Objects
    """A boto3 S3 client (thread-safe; build one per process or Lambda container)."""
    bucket: str
    encryption: Encryption = Encryption.AES256
    kms_key_id: str | None = None
    """The KMS key for `Encryption.KMS`; None means the account's default ``aws/s3`` key."""

    def __attrs_post_init__(self) -> None:
        if self.kms_key_id and self.encryption is not Encryption.KMS:
            raise InvalidConfiguration("a KMS key id needs Encryption.KMS", key="kms_key_id")

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store `body` under `key`, encrypted, with its content type."""
        extra = {"SSEKMSKeyId": self.kms_key_id} if self.kms_key_id else {}
        with _mapped(key):
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ServerSideEncryption=self.encryption.value,
                **extra,
            )

    def get(self, key: str) -> bytes:
        """The body under `key`, or `NotFound`."""
        with _mapped(key):
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            body: bytes = answer["Body"].read()
            return body

    def link(self, key: str, *, expires: dt.timedelta) -> str | None:
        """A presigned ``GetObject`` URL valid for `expires`, or None when there is no object."""
        lifetime = check_link_lifetime(expires)
        try:
            with _mapped(key):
                self.client.head_object(Bucket=self.bucket, Key=key)
        except NotFound:
            return None
        with _mapped(key):
            url: str = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=int(lifetime.total_seconds()),
                HttpMethod="GET",
            )
            return url
