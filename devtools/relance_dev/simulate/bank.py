"""The S3 event EventBridge delivers when a bank statement lands under statements/ (as for imports/)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from relance_dev.embedded.embedded import ACCOUNT_ID, REGION


def statement_event(bucket: str, key: str, when: dt.datetime) -> dict[str, Any]:
    """An EventBridge ``Object Created`` event for ``key`` at ``when`` (its day is the import's day)."""
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"s3://{bucket}/{key}@{when.isoformat()}")
    return {"version": "0", "id": str(event_id), "detail-type": "Object Created", "source": "aws.s3",
            "account": ACCOUNT_ID, "region": REGION,
            "time": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": key},
                       "request-id": event_id.hex[:16].upper(), "requester": ACCOUNT_ID, "reason": "PutObject"}}
