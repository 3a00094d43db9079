"""One open case per customer and partner at a time.

When a customer's invoice reaches the hand-off while a case of that customer is still open with the same
partner (being built, awaiting approval, with the partner), no second case is opened: the invoice waits
(its hand-off step is looked at again a week later) and its history says which case it waits for. A case
is open until it is closed, suspended or left « à décider »; then the waiting invoice makes its own case.

A pointer ``pk = CUST#<customer>``, ``sk = CASE#<partner>`` names the latest case; the case item's status
is the truth (nothing needs to clear the pointer).
"""

from __future__ import annotations

from typing import Any

OPEN_STATUSES = frozenset({"built", "awaiting_approval", "with_partner", "handed_off", "outcome_reported"})
WAIT_DAYS = 7


def _key(customer_id: str, partner: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUST#{customer_id}"}, "sk": {"S": f"CASE#{partner}"}}


def open_case(store: Any, customer_id: str, partner: str, new_case_id: str) -> str | None:
    """The id of another case still open for this customer and partner, else None."""
    item = store.client.get_item(TableName=store.table, Key=_key(customer_id, partner),
                                 ConsistentRead=True).get("Item")
    if not item:
        return None
    case_id = item.get("case_id", {}).get("S", "")
    if not case_id or case_id == new_case_id:
        return None
    case = store.client.get_item(TableName=store.table, Key={"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}},
                                 ConsistentRead=True).get("Item")
    if case is None:          # started but not built yet: the machine is on its way
        return case_id
    status = case.get("status", {}).get("S", "built")
    return case_id if status in OPEN_STATUSES else None


def remember(store: Any, customer_id: str, partner: str, case_id: str) -> None:
    store.client.put_item(TableName=store.table, Item={**_key(customer_id, partner), "case_id": {"S": case_id},
                                                       "type": {"S": "case_pointer"}})
