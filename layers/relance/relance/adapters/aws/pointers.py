"""« À décider » pointers and open-case pointers in the table (the DynamoDB side of
:mod:`relance.escalation.decisions` and :mod:`relance.escalation.open_cases`).

- ``pk = DECIDE``, ``sk = <invoice id>``: an invoice waiting for the team's decision (refused or expired
  hand-off), so the digest and ``invoice list --status to_decide`` find them with one Query;
- ``pk = CUST#<customer>``, ``sk = CASE#<partner>``: the latest case of a customer with a partner; the case
  item (``CASE#<case id>`` / ``CASE``) holds its status.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

DECIDE_PARTITION = "DECIDE"


class CasePointers:
    """Mixed into the DynamoDB store: needs ``client`` and ``table``."""

    client: Any
    table: str

    def mark_to_decide(self, invoice_id: str, customer_id: str, reason: str, since: dt.date) -> None:
        """Point at an invoice that now waits for a decision (idempotent: a retry rewrites the same item)."""
        self.client.put_item(TableName=self.table, Item={
            "pk": {"S": DECIDE_PARTITION}, "sk": {"S": invoice_id}, "customer": {"S": customer_id},
            "reason": {"S": reason[:500] or "decision"}, "since": {"S": since.isoformat()}})

    def to_decide_pointers(self) -> list[dict[str, str]]:
        """Every pointer: ``invoice``, ``customer``, ``reason``, ``since`` (one query on one partition)."""
        found: list[dict[str, str]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :p",
                                  "ExpressionAttributeValues": {":p": {"S": DECIDE_PARTITION}}}
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                found.append({"invoice": item["sk"]["S"], "customer": item.get("customer", {}).get("S", ""),
                              "reason": item.get("reason", {}).get("S", ""),
                              "since": item.get("since", {}).get("S", "")})
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def drop_to_decide(self, invoice_id: str) -> None:
        with contextlib.suppress(Exception):   # a stale pointer left behind costs one read later, nothing more
            self.client.delete_item(TableName=self.table,
                                    Key={"pk": {"S": DECIDE_PARTITION}, "sk": {"S": invoice_id}})

    def case_pointer(self, customer_id: str, partner: str) -> tuple[str, str | None] | None:
        """The latest case of this customer with this partner and its status (None: not built yet)."""
        item = self.client.get_item(TableName=self.table, Key=_case_key(customer_id, partner),
                                    ConsistentRead=True).get("Item")
        case_id = (item or {}).get("case_id", {}).get("S", "")
        if not case_id:
            return None
        case = self.client.get_item(TableName=self.table, Key={"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}},
                                    ConsistentRead=True).get("Item")
        return case_id, (case.get("status", {}).get("S", "built") if case is not None else None)

    def remember_case(self, customer_id: str, partner: str, case_id: str) -> None:
        self.client.put_item(TableName=self.table, Item={**_case_key(customer_id, partner),
                                                         "case_id": {"S": case_id}, "type": {"S": "case_pointer"}})


def _case_key(customer_id: str, partner: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUST#{customer_id}"}, "sk": {"S": f"CASE#{partner}"}}
