"""Botocore failures translated into the library's error tree, in one place.

Nothing from botocore leaves this package: a caller sees `ExternalServiceError` when
DynamoDB could not be reached, refused or throttled a request, and the precise domain
error where the failure has a meaning (a lost condition is a `ConcurrencyConflict`; a
request DynamoDB finds invalid, such as an item over 400 KB, is an `InvariantViolation`:
a defect that no retry mends, not an outage).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from loc_core.errors import ConcurrencyConflict, ExternalServiceError, InvariantViolation

__all__ = ["error_code", "translated"]


def error_code(exc: ClientError) -> str:
    """The error code DynamoDB answered with (``ConditionalCheckFailedException``, ...)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated(operation: str) -> Iterator[None]:
    """Run a DynamoDB call, raising the library's errors instead of botocore's.

    Call sites that give a failed condition a meaning of their own catch `ClientError`
    inside this block first; whatever reaches it is translated here.
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
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
