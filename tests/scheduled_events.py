"""EventBridge scheduled events exactly as AWS documents them, for the job handlers' tests.

The shape is the one in "Amazon EventBridge events" (``detail-type: Scheduled Event``,
``source: aws.events``, the rule's ARN in ``resources``, an empty ``detail``).
"""

import datetime as dt
import uuid
from typing import Any

__all__ = ["scheduled_event"]


def scheduled_event(
    when: dt.datetime, rule: str = "loc-job", *, region: str = "us-east-1"
) -> dict[str, Any]:
    """The event EventBridge sends a Lambda when the schedule `rule` fires at `when` (UTC)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:123456789012:rule/{rule}"],
        "detail": {},
    }
