"""The daily run's planning: which customers have something due today, one queue message each."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from relance.errors import ValidationError
from relance.ports import Queue, Store

PARIS = ZoneInfo("Europe/Paris")


def run_date_from_event(event: Any) -> dt.date:
    """The run date is the scheduled time of the event, in Europe/Paris, never the wall clock.

    Accepts EventBridge scheduled events and EventBridge Scheduler payloads (``time`` in ISO 8601 with a
    zone). Replaying an event replays that day.
    """
    if not isinstance(event, dict) or not isinstance(event.get("time"), str):
        raise ValidationError("the scheduled event has no 'time' field (ISO 8601, e.g. 2026-04-16T06:00:00Z)",
                              "scheduled event")
    text = event["time"].strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"'time' {text!r} is not an ISO 8601 date and time", "scheduled event") from None
    if moment.tzinfo is None:
        raise ValidationError(f"'time' {text!r} has no time zone; expected UTC ('Z') or an offset",
                              "scheduled event")
    return moment.astimezone(PARIS).date()


@dataclass(frozen=True)
class PlanResult:
    run_date: dt.date
    due_invoices: int
    customers: int
    messages: int
    approvals: tuple[dict[str, str], ...] = ()
    """Pending approvals with a reminder or an expiry due (``approval_id``, ``expires``): for the sweep."""


def plan(store: Store, queue: Queue, run_date: dt.date) -> PlanResult:
    """Read the due index up to ``run_date`` and enqueue one message per customer.

    Memory holds one set of customer ids; the index holds only invoices with a next action, so a run
    reads nothing for invoices that are not due. The same read returns the pending approvals whose
    reminder or expiry is due, handed back for the sweep (no second query).
    """
    customers: dict[str, int] = {}
    approvals: list[dict[str, str]] = []
    due = 0
    for kind, first, second in store.due_work(run_date):
        if kind == "approval":
            approvals.append({"approval_id": first, "expires": second})
            continue
        due += 1
        customers[first] = customers.get(first, 0) + 1
    messages = queue.send_all([json.dumps({"customer": customer, "run_date": run_date.isoformat()})
                               for customer in customers])
    return PlanResult(run_date, due, len(customers), messages, tuple(approvals))
