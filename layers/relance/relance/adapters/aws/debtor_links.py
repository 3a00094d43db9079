"""The debtor page's port (:class:`relance.debtor.ports.LinkStore`) on the relance DynamoDB table.

Item types (new, used only by the debtor page and by dispatch when it writes a link):

==========================  ===========================  ==========================================
pk                          sk                           what
==========================  ===========================  ==========================================
``DEBTOR#<link id>``        ``LINK``                     the customer a link id stands for
``DEBTOR#<link id>``        ``DAY#<YYYY-MM-DD>``         answers given that day (rate limit, TTL)
``DEBTOR#<link id>``        ``ANSWER#<digest>``          one answer already recorded (TTL)
==========================  ===========================  ==========================================

The link id is an HMAC of the customer id (``relance.debtor.links.link_id``): writing its item again on
every message is an idempotent put, never a read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from relance.adapters.aws.dynamodb import (
    LINK_RETENTION_DAYS,
    OnTheTable,
    _from_item,
    _to_item,
    _unless_condition_fails,
    debtor_link_item,
    ttl_after,
)

COUNTER_RETENTION_DAYS = 3


@dataclass
class DynamoLinkStore(OnTheTable):
    """LinkStore over the table's low-level client (the same ``Store`` the ledger uses)."""

    def put_link(self, link_id: str, customer_id: str, today: dt.date) -> None:
        self._client.put_item(TableName=self._table, Item=_to_item(debtor_link_item(link_id, customer_id, today)))

    def customer_of(self, link_id: str) -> str | None:
        resp = self._client.get_item(TableName=self._table, ConsistentRead=True,
                                     Key=_to_item({"pk": f"DEBTOR#{link_id}", "sk": "LINK"}))
        item = resp.get("Item")
        return str(_from_item(item)["customer_id"]) if item else None

    def count_answer(self, link_id: str, day: dt.date, limit: int) -> bool:
        """Add one to the day's counter unless it reached ``limit`` (conditional update): False if it had."""
        return _unless_condition_fails(
            self._client.update_item, TableName=self._table,
            Key=_to_item({"pk": f"DEBTOR#{link_id}", "sk": f"DAY#{day.isoformat()}"}),
            UpdateExpression="ADD answers :one SET expires_at = :ttl",
            ConditionExpression="attribute_not_exists(answers) OR answers < :limit",
            ExpressionAttributeValues=_to_item({":one": 1, ":limit": limit,
                                                ":ttl": ttl_after(day, COUNTER_RETENTION_DAYS)}))

    def claim_answer(self, link_id: str, digest: str, day: dt.date) -> bool:
        """Record that this exact answer was taken (conditional put): False if it already was."""
        return _unless_condition_fails(
            self._client.put_item, TableName=self._table, ConditionExpression="attribute_not_exists(pk)",
            Item=_to_item({"pk": f"DEBTOR#{link_id}", "sk": f"ANSWER#{digest}", "type": "debtor_answer",
                           "date": day.isoformat(), "expires_at": ttl_after(day, LINK_RETENTION_DAYS)}))

    def release_answer(self, link_id: str, digest: str) -> None:
        """Forget an answer whose recording failed, so that posting it again records it."""
        self._client.delete_item(TableName=self._table,
                                 Key=_to_item({"pk": f"DEBTOR#{link_id}", "sk": f"ANSWER#{digest}"}))
