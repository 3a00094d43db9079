"""The state machine's Lambda tasks (statemachines/handoff.asl.json), one function per ``action``.

Every task is idempotent: Step Functions retries them, and a second run finds its own earlier work
(the case item, the approval item, the invoices' statuses) and does not send twice.
Dates come from the case (its run date, the approver's decision date), never from the wall clock.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from relance.errors import RelanceError
from relance.escalation import approvals, decisions, partners
from relance.escalation.outcome import record_outcome
from relance.escalation.services import APPROVAL_BASE_URL, APPROVAL_SECRET_ARN, Services, env, today_in_paris
from relance.models import InvoiceStatus
from relance.store import InvoiceRecord

APPROVAL_TTL_DAYS = 90  # the approval item (it holds the task token) is deleted by the table's TTL after this


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def _today(case: Mapping[str, Any]) -> dt.date:
    """The day the machine acts on: the approver's decision date, else the case's run date."""
    decision = case.get("decision") or {}
    return _day(decision.get("decided_on") or case["run_date"])


def _company(services: Services) -> dict[str, str]:
    s = services.settings
    return {"name": s.company_name, "siren": s.company_siren, "address": s.company_address,
            "email": s.reply_to_email, "iban": s.company_iban, "bic": s.company_bic,
            **{key: value for key, value in (("legal_form", s.company_legal_form),
                                             ("share_capital", s.company_share_capital),
                                             ("rcs_city", s.company_rcs_city)) if value}}


def _extra(case_item: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    return {"case_id": case_item["case_id"], "partner": case_item.get("partner"),
            "partner_name": case_item.get("partner_name"), "route_reason": case_item.get("route_reason"), **more}


def _store_case_file(services: Services, case: Mapping[str, Any], today: dt.date,
                     partner_id: str) -> tuple[dict[str, Any], bytes]:
    """Compute the case file on ``today`` and store it (JSON + PDF) under ``cases/<case id>/``."""
    # Here, not at the top: the case file needs the dispatcher's invoice lines (rendering, policies), which
    # the other tasks of the escalation (approval, outcome...) never load in a fresh container.
    from relance.escalation import casefile

    customer = services.customer(case["customer"])
    records = services.records(case["invoices"])
    partner = partners.resolve(partner_id)
    events = {r.invoice_id: services.store.history(r.invoice_id) for r in records}
    document = casefile.build_case(case, customer, records, events, _company(services), today,
                                   {"id": partner.id, "name": partner.name, "kind": partner.kind})
    prefix = f"cases/{case['case_id']}/"
    pdf = casefile.case_pdf(document)
    services.files.put(prefix + "case.json", casefile.case_json(document), "application/json")
    services.files.put(prefix + "case.pdf", pdf, "application/pdf")
    return document, pdf


# ---- BuildCaseFile --------------------------------------------------------------------------------
def build_case(services: Services, case: Mapping[str, Any]) -> dict[str, Any]:
    """Compute the case file on the case's run date, store it (JSON + PDF) and record the case item."""
    today = _day(case["run_date"])
    partner = partners.resolve(str(case["partner"]))
    document, _ = _store_case_file(services, case, today, str(case["partner"]))
    prefix = f"cases/{case['case_id']}/"
    summary = {k: document[k] for k in ("debtor", "invoices", "totals", "route", "limitation_date", "warnings")}
    summary["history"] = document["history"][-60:]
    services.store.put_case(case["case_id"], {
        "case_id": case["case_id"], "customer": case["customer"], "invoices": list(case["invoices"]),
        "partner": case["partner"], "partner_id": partner.id, "partner_name": partner.name,
        "partner_kind": partner.kind, "route_reason": document["route"]["reason"],
        "run_date": today.isoformat(), "status": "built", "json_key": prefix + "case.json",
        "pdf_key": prefix + "case.pdf", "balances": {i["id"]: i["balance"] for i in document["invoices"]},
        "total_claimed": document["totals"]["claimed"], "summary": json.dumps(summary, ensure_ascii=False)})
    services.note(case["invoices"], today, "case_file_built",
                  {"case_id": case["case_id"], "key": prefix + "case.pdf", "partner": partner.id})
    expiry_days = services.settings.approval_expiry_days
    return {"json_key": prefix + "case.json", "pdf_key": prefix + "case.pdf",
            "total_claimed": document["totals"]["claimed"], "partner_id": partner.id,
            "approval_timeout_seconds": (expiry_days + 2) * 86400}


# ---- RequestApproval (waitForTaskToken) -------------------------------------------------------------
def request_approval(services: Services, case: Mapping[str, Any], task_token: str) -> dict[str, Any]:
    """Store the task token under a random approval id and email the approver a signed link.

    A retried task (same case, approval still pending) swaps the token and sends nothing again.
    """
    case_id = str(case["case_id"])
    case_item = services.store.get_case(case_id) or {}
    existing = case_item.get("approval_id")
    if existing and services.store.refresh_approval_token(existing, task_token):
        return {"approval_id": existing, "sent": False}
    today = _day(case["run_date"])
    days = services.settings.approval_expiry_days
    expires = today + dt.timedelta(days=days)
    expires_at = approvals.expiry_moment(expires)
    approval_id = approvals.new_approval_id()
    key = approvals.signing_key(env(APPROVAL_SECRET_ARN), services.secrets)
    link = approvals.approval_link(env(APPROVAL_BASE_URL), approval_id, approvals.sign(key, approval_id, expires_at))
    approver = services.settings.approver_email
    services.store.put_approval(approval_id, {
        "case_id": case_id, "task_token": task_token, "created": today.isoformat(),
        "remind_on": (today + dt.timedelta(days=math.ceil(days / 2))).isoformat(),
        "expires_at_link": expires_at, "link": link, "approver": approver,
        "expires_at": expires_at + APPROVAL_TTL_DAYS * 86400}, expires)
    services.store.update_case(case_id, {"approval_id": approval_id, "status": "awaiting_approval"})
    message_id = send_approval_mail(services, "approval_request", case_item or dict(case), link, expires, today)
    services.note(case["invoices"], today, "approval_requested",
                  {"case_id": case_id, "to": approver, "message_id": message_id, "expires": expires.isoformat(),
                   "step": "approval_request", "channel": "email"})
    return {"approval_id": approval_id, "sent": True}


def send_approval_mail(services: Services, template: str, case_item: Mapping[str, Any], link: str,
                       expires: dt.date, on: dt.date) -> str:
    """The approval request or its reminder, amounts computed on ``on``."""
    customer = services.customer(str(case_item["customer"]))
    records = services.records(list(case_item["invoices"]))
    from relance.law.limitation import near_warnings
    from relance.ledger import engine_state, invoice_due

    limits = near_warnings(customer.kind, [(r.invoice_id, invoice_due(r), engine_state(r, on).delivered)
                                           for r in records], on)
    ctx = services.context(customer, template, records, on,
                           _extra(case_item, approval_link=link, expires=expires, limitation_warnings=limits),
                           language="fr")
    return services.send_email(to=services.settings.approver_email, to_name="", template=template, ctx=ctx,
                               case_id=str(case_item["case_id"]), invoice_ids=list(case_item["invoices"]), on=on)


# ---- CheckStillDue ------------------------------------------------------------------------------------
def _changes_since_file(record: InvoiceRecord, snapshot_balance: str | None, today: dt.date) -> str | None:
    if record.status != InvoiceStatus.OPEN.value:
        return f"facture {record.invoice_id} : statut {record.status}"
    if snapshot_balance is not None and record.balance < Decimal(snapshot_balance):
        return f"facture {record.invoice_id} : paiement reçu (solde {record.balance})"
    if record.disputed:
        return f"facture {record.invoice_id} : litige en cours"
    if record.promise_until and record.promise_until >= today:
        return f"facture {record.invoice_id} : promesse de paiement jusqu'au {record.promise_until.isoformat()}"
    if record.plan:
        return f"facture {record.invoice_id} : échéancier en place"
    if record.manual_pause:
        return f"facture {record.invoice_id} : relances suspendues à la main"
    return None


def check_case(services: Services, case: Mapping[str, Any]) -> dict[str, Any]:
    """Before handing off: a payment, dispute, promise or plan recorded meanwhile suspends the hand-off."""
    today = _today(case)
    case_item = services.store.get_case(str(case["case_id"])) or {}
    balances = case_item.get("balances") or {}
    records = services.records(case["invoices"])
    reasons = [r for rec in records if (r := _changes_since_file(rec, balances.get(rec.invoice_id), today))]
    if not reasons:
        return {"proceed": True}
    if services.store.update_case(str(case["case_id"]), {"status": "suspended", "suspended_on": today.isoformat()},
                                  expect=None, absent=["suspended_on"]):
        services.note(case["invoices"], today, "escalation_suspended",
                      {"case_id": case["case_id"], "reason": "; ".join(reasons)[:500]})
        customer = services.customer(str(case["customer"]))
        services.team_task(customer, "escalation_suspended", records, today,
                           _extra(case_item, reason="; ".join(reasons)))
    return {"proceed": False, "reasons": reasons}


# ---- SubmitToPartner ---------------------------------------------------------------------------------
def submit(services: Services, case: Mapping[str, Any]) -> dict[str, Any]:
    """Email the partner the case (cover letter + case-file PDF) and POST it to their webhook, once."""
    case_id = str(case["case_id"])
    today = _today(case)
    case_item = services.store.get_case(case_id)
    if case_item is None:
        raise RelanceError("the case file was not built", f"case {case_id}")
    if case_item.get("submission") == "sent":
        return {"partner_id": case_item["partner_id"], "message_id": case_item.get("submission_message_id"),
                "webhook_status": case_item.get("webhook_status"), "resent": False}
    partner = partners.resolve(str(case_item["partner_id"]))
    pdf = services.files.get(str(case_item["pdf_key"]))
    document_bytes = services.files.get(str(case_item["json_key"]))
    if pdf is None or document_bytes is None:
        raise RelanceError("the case file is missing from the letters bucket", f"case {case_id}")
    document = json.loads(document_bytes)
    if document.get("built_on") != today.isoformat():
        # The cover letter and the case file state the same amounts, computed on the same day: the day sent.
        document, pdf = _store_case_file(services, case, today, str(case_item["partner_id"]))
    customer = services.customer(str(case["customer"]))
    records = services.records(case["invoices"])
    ctx = services.context(customer, "partner_submission", records, today, _extra(case_item), language="fr")
    message_id = services.send_email(to=partner.email, to_name=partner.name, template="partner_submission",
                                     ctx=ctx, case_id=case_id, invoice_ids=case["invoices"], on=today,
                                     attachments=[(f"dossier-{case_id}.pdf", pdf)])
    status = partners.post_case(partner, {**document, "submitted_on": today.isoformat()})
    services.store.update_case(case_id, {"submission": "sent", "submitted_on": today.isoformat(),
                                         "submission_message_id": message_id,
                                         "webhook_status": status if status is not None else "none"})
    services.note(case["invoices"], today, "submitted_to_partner",
                  {"case_id": case_id, "partner": partner.id, "to": partner.email, "message_id": message_id,
                   "channel": "email", "webhook": status if status is not None else "none"})
    return {"partner_id": partner.id, "partner_name": partner.name, "message_id": message_id,
            "webhook_status": status, "resent": False}


# ---- MarkHandedOff / MarkDeclined --------------------------------------------------------------------
def handed_off(services: Services, case: Mapping[str, Any]) -> dict[str, Any]:
    """The invoices leave the dunning (HANDED_OFF); the team is told, once."""
    case_id = str(case["case_id"])
    today = _today(case)
    case_item = services.store.get_case(case_id) or {}
    changed = []
    for record in services.records(case["invoices"]):
        if record.status == InvoiceStatus.OPEN.value:
            services.ledger.set_status(record.invoice_id, today, InvoiceStatus.HANDED_OFF,
                                       f"handed off to {case_item.get('partner_name')} (case {case_id})")
            changed.append(record.invoice_id)
    if services.store.update_case(case_id, {"status": "handed_off", "handed_off_on": today.isoformat()},
                                  absent=["handed_off_on"]):
        customer = services.customer(str(case["customer"]))
        services.team_task(customer, "handoff", services.records(case["invoices"]), today, _extra(case_item))
    return {"handed_off": changed}


def _decline_reason(case: Mapping[str, Any], approval: Mapping[str, Any] | None) -> tuple[str, str | None]:
    """Why and when the case was not approved: from the approval item (what the page or the sweep wrote),
    else from the error's cause. (moto drops SendTaskFailure's cause; AWS keeps it.)"""
    error = case.get("declined") or {}
    name = str(error.get("Error", ""))
    try:
        cause = json.loads(error.get("Cause") or "{}")
    except ValueError:
        cause = {}
    cause = cause if isinstance(cause, dict) else {}
    approval = approval or {}
    if name == "Rejected":
        reason = str(approval.get("reason") or cause.get("reason") or "").strip()
        return ("rejected by the approver" + (f": {reason}" if reason else "")), (
            approval.get("decided_on") or cause.get("date"))
    if name == "ApprovalExpired":
        return "approval expired", approval.get("expired_on") or cause.get("date")
    if name == "States.Timeout":
        return "approval expired (no answer before the safety timeout)", None
    return "not approved", approval.get("decided_on")


def declined(services: Services, case: Mapping[str, Any]) -> dict[str, Any]:
    """Not approved (rejected or expired): nothing is handed off, and nothing owed disappears.

    The invoices stay open and owed, paused « à décider » (the team writes them off, chases again later
    or chooses another partner); an expired approval is recorded as ``approval_expired``, never as a
    refusal. The team gets one task.
    """
    case_id = str(case["case_id"])
    case_item = services.store.get_case(case_id) or {}
    approval_id = str(case_item.get("approval_id") or "")
    approval = services.store.get_approval(approval_id) if approval_id else None
    reason, when = _decline_reason(case, approval)
    if approval and approval.get("status") == "pending":
        services.store.decide_approval(approval_id, "expired", {"reason": reason})
    expired = not reason.startswith("rejected") and reason != "not approved"
    today = _day(when) if when else today_in_paris()
    first = services.store.update_case(case_id, {"status": "to_decide", "declined_on": today.isoformat(),
                                                 "decline_reason": reason}, absent=["declined_on"])
    if first and expired:
        services.note(case["invoices"], today, "approval_expired",
                      {"case_id": case_id, "reason": reason, "partner": case_item.get("partner", "")})
    changed = []
    for record in services.records(case["invoices"]):
        if record.status == InvoiceStatus.OPEN.value and not record.to_decide:
            services.ledger.await_decision(record.invoice_id, today, reason)
            changed.append(record.invoice_id)
        if record.status == InvoiceStatus.OPEN.value:
            decisions.mark(services.store, record.invoice_id, record.customer_id, reason, today)
    if first:
        customer = services.customer(str(case["customer"]))
        extra = _extra(case_item or dict(case), reason=reason, expired=expired)
        if approval and approval.get("status") == "rejected":
            extra["decided_by"] = approval.get("approver")
        services.team_task(customer, "escalation_declined", services.records(case["invoices"]), today, extra)
    return {"to_decide": changed, "reason": reason}


# ---- WaitForOutcome / RecordOutcome ------------------------------------------------------------------
def await_outcome(services: Services, case: Mapping[str, Any], task_token: str) -> dict[str, Any]:
    """Keep the token on the case item: report_outcome() resumes the machine with it."""
    services.store.update_case(str(case["case_id"]), {"outcome_token": task_token, "status": "with_partner"})
    return {"waiting": True}


def record(services: Services, case: Mapping[str, Any]) -> dict[str, Any]:
    return record_outcome(services, case)


ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "build_case": build_case, "check_case": check_case, "submit": submit, "handed_off": handed_off,
    "declined": declined, "record_outcome": record,
}


def run(event: Mapping[str, Any]) -> dict[str, Any]:
    """Entry point of functions/escalation: ``{"action": ..., "case": {...}, "task_token"?: ...}``."""
    action = str(event.get("action", ""))
    services = Services.from_env()
    case = event.get("case") or {}
    if action == "request_approval":
        return request_approval(services, case, str(event["task_token"]))
    if action == "await_outcome":
        return await_outcome(services, case, str(event["task_token"]))
    if action == "sweep":
        from relance.escalation.sweep import sweep

        return sweep(_day(event["run_date"]), services=services).as_dict()
    handler = ACTIONS.get(action)
    if handler is None:
        raise RelanceError(f"unknown escalation action {action!r}", "escalation event")
    return handler(services, case)

