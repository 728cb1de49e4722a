"""Botocore failures translated into the library's error tree, in one place.

Nothing from botocore leaves this package: a caller sees `ExternalServiceError` when
DynamoDB could not be reached, refused or throttled a request, and the precise domain
error where the failure has a meaning (a lost condition is a `ConcurrencyConflict`; a
request DynamoDB finds invalid, such as an item over 400 KB, is an `InvariantViolation`:
a defect that no retry mends, not an outage; a table that does not exist is a
`ServiceNotConfigured` naming the table and the variable that named it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from loc_core.errors import (
    ConcurrencyConflict,
    ExternalServiceError,
    InvariantViolation,
    ServiceNotConfigured,
)

__all__ = ["error_code", "translated"]


def error_code(exc: ClientError) -> str:
    """The error code DynamoDB answered with (``ConditionalCheckFailedException``, ...)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated(
    operation: str, *, table: str = "", setting: str = "LOC_TABLE_NAME"
) -> Iterator[None]:
    """Run a DynamoDB call, raising the library's errors instead of botocore's.

    Call sites that give a failed condition a meaning of their own catch `ClientError`
    inside this block first; whatever reaches it is translated here. `table` (the table
    called) and `setting` (the variable that named it) make a table that does not exist
    a `ServiceNotConfigured` naming both, not an anonymous failure.
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        if code == "ResourceNotFoundException":  # a wrong name or region: a setting to fix
            raise ServiceNotConfigured(
                f"DynamoDB {operation} failed: {code}: table {table or '(unnamed)'} does not"
                f" exist in this region: check {setting} and LOC_REGION"
                + (f" ({message})" if message else ""),
                entity="table",
                entity_id=table or None,
                key=setting,
            ) from exc
        if code == "ConditionalCheckFailedException":
            raise ConcurrencyConflict(f"{operation}: a condition failed ({message})") from exc
        if code == "ValidationException":  # the same request fails again: not an outage
            raise InvariantViolation(
                f"DynamoDB refused {operation} as invalid: {message}",
                invariant="valid_request",
            ) from exc
        raise ExternalServiceError(f"DynamoDB {operation} failed: {code}: {message}") from exc
    except BotoCoreError as exc:
        raise ExternalServiceError(f"DynamoDB {operation} failed: {exc}") from exc
