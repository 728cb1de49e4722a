"""Borrower documents on Amazon S3: `S3DocumentStore`.

Needs the ``aws`` extra (boto3).
"""

from loc_adapters.s3._store import Encryption, S3DocumentStore

__all__ = ["Encryption", "S3DocumentStore"]
