"""Reminders and expiry of pending approvals, driven by the run date (the daily run calls :func:`sweep`).

Wait states and timeouts would sleep in real time; a date-driven sweep replays days like everything else:

- half the approval delay passed without a decision: the approver gets one reminder (``approval_reminder``)
  and the team a task saying so;
- the expiry date passed: the approval is closed and the waiting task fails with ``ApprovalExpired``, so the
  machine's ``MarkDeclined`` leaves the invoices open and owed, « à décider » by the team (never a refusal).

It reads only the pending approvals, never the invoices. Each pointer carries its expiry (in its sort key),
its reminder date and whether the reminder went out, and sits in the due index on the day its reminder,
then its expiry, is due: the daily run's one Query of that index finds it (``due``), so an approval is read
only on the days something is due for it, and the sweep makes no query of its own. Once a week
(:data:`FULL_SWEEP_WEEKDAY`) and whenever it is called without ``due``, it reads the whole pending list as
well (one consistent Query): a pointer written before approvals were in the due index is put into it then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from relance.escalation.services import Services


@dataclass
class SweepReport:
    """What a sweep did: approval ids reminded and expired, and errors by approval id."""

    reminded: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"reminded": len(self.reminded), "expired": len(self.expired), "errors": len(self.errors)}


FULL_SWEEP_WEEKDAY = 0     # Monday: the whole pending list is read too (a safety net, and older pointers)


def sweep(run_date: dt.date, *, services: Services | None = None,
          due: Sequence[dict[str, Any]] | None = None) -> SweepReport:
    """Send due reminders and expire overdue approvals as of ``run_date``. Safe to run twice a day.

    ``due``: the pointers the due index returned for ``run_date`` (the daily run's plan); without it, or on
    :data:`FULL_SWEEP_WEEKDAY`, the pending list is read.
    """
    report = SweepReport()
    services = services or Services.from_env()
    pointers: dict[str, dict[str, Any]] = {str(p["approval_id"]): dict(p) for p in due or ()}
    if due is None or run_date.weekday() == FULL_SWEEP_WEEKDAY:
        for pointer in services.store.pending_approvals():
            if "due_sk" not in pointer:
                services.store.index_pending_approval(pointer)
            if not _quiet(pointer, run_date):
                pointers.setdefault(str(pointer["approval_id"]), pointer)
    for approval_id, pointer in sorted(pointers.items(), key=lambda kv: (str(kv[1].get("expires")), kv[0])):
        if _quiet(pointer, run_date):
            continue
        try:
            _one(services, approval_id, run_date, report)
        except Exception as exc:  # one bad approval must not stop the others; reported to the caller
            report.errors[approval_id[:8]] = type(exc).__name__
    return report


def _quiet(pointer: dict[str, Any], run_date: dt.date) -> bool:
    """Nothing is due today for this approval, as its pointer tells (older pointers without the reminder
    date are always read)."""
    try:
        expires = dt.date.fromisoformat(str(pointer["expires"]))
        remind_on = dt.date.fromisoformat(str(pointer["remind_on"]))
    except (KeyError, ValueError):
        return False
    if run_date > expires:
        return False
    return run_date < remind_on or bool(pointer.get("reminded"))


def _one(services: Services, approval_id: str, run_date: dt.date, report: SweepReport) -> None:
    approval = services.store.get_approval(approval_id)
    if approval is None:
        return
    if approval.get("status") != "pending":
        # a stale pointer (decided meanwhile): drop it
        services.store.decide_approval(approval_id, str(approval["status"]), {}, expected=str(approval["status"]))
        return
    expires = dt.date.fromisoformat(str(approval["expires"]))
    if run_date > expires:
        if services.store.decide_approval(approval_id, "expired", {"expired_on": run_date.isoformat()}):
            # False: the machine may already have ended (safety-net timeout): nothing left to tell it
            services.workflow.fail(approval["task_token"], "ApprovalExpired",
                                   {"reason": "approval expired", "date": run_date.isoformat(),
                                    "approval_id": approval_id})
            report.expired.append(approval_id)
        return
    remind_on = dt.date.fromisoformat(str(approval["remind_on"]))
    if run_date >= remind_on and not approval.get("reminded"):
        if not services.store.mark_reminded(approval_id, run_date, expires):
            return
        from relance.escalation.tasks import send_approval_mail

        case_item = services.store.get_case(str(approval["case_id"]))
        if case_item is None:
            return
        try:
            message_id = send_approval_mail(services, "approval_reminder", case_item, str(approval["link"]),
                                            expires, run_date)
        except Exception:
            services.store.unmark_reminded(approval_id, expires, run_date)
            raise
        # the team hears of it too: without a decision by the expiry, the invoices come back to it
        customer = services.customer(str(case_item["customer"]))
        from relance.escalation.tasks import _extra

        services.team_task(customer, "approval_reminder", services.records(list(case_item["invoices"])), run_date,
                           _extra(case_item, approver=approval.get("approver", ""), expires=expires))
        services.note(list(case_item["invoices"]), run_date, "approval_reminded",
                      {"case_id": case_item["case_id"], "to": approval.get("approver", ""),
                       "message_id": message_id, "channel": "email", "step": "approval_reminder"})
        report.reminded.append(approval_id)
