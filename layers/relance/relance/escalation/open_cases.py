"""One open case per customer and partner at a time.

When a customer's invoice reaches the hand-off while a case of that customer is still open with the same
partner (being built, awaiting approval, with the partner), no second case is opened: the invoice waits
(its hand-off step is looked at again a week later) and its history says which case it waits for. A case
is open until it is closed, suspended or left « à décider »; then the waiting invoice makes its own case.

The store keeps a pointer to the latest case of a customer with a partner; the case item's status is the
truth (nothing needs to clear the pointer).
"""

from __future__ import annotations

from typing import Any

OPEN_STATUSES = frozenset({"built", "awaiting_approval", "with_partner", "handed_off", "outcome_reported"})
WAIT_DAYS = 7



def open_case(store: Any, customer_id: str, partner: str, new_case_id: str) -> str | None:
    """The id of another case still open for this customer and partner, else None."""
    found = store.case_pointer(customer_id, partner)
    if found is None:
        return None
    case_id, status = found
    if case_id == new_case_id:
        return None
    if status is None:          # started but not built yet: the machine is on its way
        return case_id
    return case_id if status in OPEN_STATUSES else None


def remember(store: Any, customer_id: str, partner: str, case_id: str) -> None:
    store.remember_case(customer_id, partner, case_id)
