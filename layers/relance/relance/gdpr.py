"""Personal data (GDPR): what is stored about a customer, its export, and its erasure.

What the law makes us keep, and what ``erase`` therefore keeps (see docs/hardening.md):

- Invoices and their accounting facts (amounts, dates, payments, status, what was sent and when) are
  accounting documents kept for 10 years (C. com. L123-22): the invoice items, their PDFs
  (``invoices/<id>.pdf``) and the history events that state a fact (imported, payment, sent, stopped...)
  stay, stripped of free text and contact data.
- Evidence of a formal notice (the registered letter PDF, the ``sent`` event of the ``formal_notice`` step
  with the address it went to) is kept while the debt is open or its limitation period runs (5 years from
  the due date between businesses, C. com. L110-4; 2 years for a consumer, C. consom. L218-2); the case
  files of a hand-off likewise.

Everything else is removed or pseudonymised: the customer's name becomes ``"erased"``, email, phone,
address and segment are removed (a consumer's SIREN too), free-text reasons and bank references in the
history become ``"erased"``, quarantine copies of the records are emptied, the other letters and the
print-queue entries (a copy of the postal address) are deleted.

History events expire by themselves (DynamoDB TTL on ``expires_at``, ``HISTORY_RETENTION_DAYS``).

Finding a customer's closed invoices needs one filtered, paginated Scan (open invoices have a pointer in
the customer's item collection, paid ones do not): memory holds one page and this customer's items. It
is an operator's command, run rarely; the daily run never scans.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from relance.errors import NotFoundError, RelanceError
from relance.law.limitation import limitation_date
from relance.ports import Files, Store
from relance.store import CustomerItems

ERASED = "erased"
# Customer fields an erasure keeps: what the accounting and the legal regime need, nothing to contact.
KEPT_CUSTOMER_FIELDS = ("id", "kind", "language", "policy")
# History details that are free text or contact data.
FREE_TEXT_DETAILS = ("reason", "reference", "subject", "flag_reason")
CONTACT_DETAILS = ("to",)
EVIDENCE_STEPS = frozenset({"formal_notice"})
ACCOUNTING_RETENTION_YEARS = 10     # C. com. L123-22


def open_invoices(data: CustomerItems) -> list[str]:
    return sorted(iid for iid, meta in data.metas.items() if meta.get("status", "open") == "open")


def letters(data: CustomerItems) -> list[str]:
    """Keys of the letters bucket that concern this customer (letters, print queue, invoices, cases)."""
    keys: set[str] = set()
    for iid, meta in data.metas.items():
        if meta.get("attachment_key"):
            keys.add(str(meta["attachment_key"]))
        for event in data.events.get(iid, []):
            details = event.get("details") or {}
            if details.get("key"):
                keys.add(str(details["key"]))
            if event.get("kind") == "sent" and details.get("channel") == "letter" and details.get("message_id"):
                keys.add(str(details["message_id"]))          # the print-queue entry
    for case in data.cases:
        keys.update(str(case[k]) for k in ("json_key", "pdf_key") if case.get(k))
    return sorted(keys)


def collect(store: Store, customer_id: str) -> CustomerItems:
    """Everything stored about ``customer_id``. NotFoundError when nothing at all is stored."""
    data = store.customer_items(customer_id)
    if data.profile is None and not data.metas:
        raise NotFoundError(f"customer {customer_id} does not exist")
    return data


def export(store: Store, customer_id: str) -> dict[str, Any]:
    """A JSON-ready document of everything stored about a customer (GDPR art. 15 and 20)."""
    data = collect(store, customer_id)
    invoices = []
    for iid in sorted(set(data.metas) | set(data.events)):
        meta = data.metas.get(iid) or {}
        invoices.append({
            "id": iid, "invoice": _plain(meta.get("data", {})), "status": meta.get("status"),
            "balance": _plain(meta.get("balance")), "payments": _plain(meta.get("payments", [])),
            "sent": _plain(meta.get("sent", [])), "attachment_key": meta.get("attachment_key"),
            "claims": [_plain({k: v for k, v in c.items() if k != "ref"}) for c in data.claims.get(iid, [])],
            "history": [_plain({"date": e.get("date"), "kind": e.get("kind"), "details": e.get("details", {}),
                                "expires_at": e.get("expires_at")}) for e in data.events.get(iid, [])],
        })
    return {
        "customer": data.customer_id,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "profile": _plain(data.profile.get("data")) if data.profile else None,
        "invoices": invoices,
        "quarantine": [_plain({k: v for k, v in q.items() if k != "ref"}) for q in data.quarantine],
        "cases": [_plain({k: v for k, v in c.items() if k != "ref"}) for c in data.cases],
        "letters": letters(data),
    }


@dataclass
class ErasureReport:
    customer: str
    forced: bool
    open_invoices: list[str]
    profile: str = "absent"
    events_pseudonymised: int = 0
    events_kept_as_evidence: int = 0
    quarantine_emptied: int = 0
    objects_deleted: list[str] = field(default_factory=list)
    objects_kept: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def erase(store: Store, customer_id: str, today: dt.date, *, force: bool = False, files: Files | None = None,
          ledger: Any = None) -> ErasureReport:
    """Erase a customer's personal data, keeping what the law requires (module docstring).

    Refuses (RelanceError) when the customer has open invoices, unless ``force``: then their reminders are
    paused first (a customer we may no longer contact cannot be chased). ``files`` (the letters bucket) lets
    it delete the letters that are not evidence; without it the objects are only listed as kept.
    """
    data = collect(store, customer_id)
    still_open = open_invoices(data)
    if still_open and not force:
        raise RelanceError(
            f"customer {customer_id} has {len(still_open)} open invoice(s) ({', '.join(still_open[:5])}): "
            "erasing would stop their recovery; settle or write them off first, or use --force",
            f"customer {customer_id}")
    report = ErasureReport(customer_id, force, still_open)
    kind = str((data.profile or {}).get("data", {}).get("kind", "b2b"))
    if ledger is not None:
        for iid in still_open:
            ledger.set_manual_pause(iid, today, True, "customer erased (GDPR)")
            report.paused.append(iid)
        if still_open:
            data = collect(store, customer_id)        # the pause wrote events and a new META version
    if data.profile is not None:
        kept = {k: v for k, v in data.profile["data"].items() if k in KEPT_CUSTOMER_FIELDS}
        if kind != "b2c" and data.profile["data"].get("siren"):
            kept["siren"] = data.profile["data"]["siren"]      # a company's registration: an accounting fact
        kept["name"] = ERASED
        store.replace_profile(data.profile, kept, today)
        report.profile = "pseudonymised"
    evidence_keys: set[str] = set()
    for iid, meta in data.metas.items():
        keep_evidence = _evidence_retained(meta, kind, today)
        for event in data.events.get(iid, []):
            details = dict(event.get("details") or {})
            evidence = keep_evidence and details.get("step") in EVIDENCE_STEPS and event.get("kind") == "sent"
            if evidence:
                report.events_kept_as_evidence += 1
                for key in ("key", "message_id"):
                    if details.get("channel") == "letter" and details.get(key):
                        evidence_keys.add(str(details[key]))
            new = {k: (ERASED if k in FREE_TEXT_DETAILS or (k in CONTACT_DETAILS and not evidence) else v)
                   for k, v in details.items()}
            if new != details:
                store.set_event_details(event, new)
                report.events_pseudonymised += 1
    for q in data.quarantine:
        store.empty_quarantine(q, f"{ERASED} (GDPR, {today.isoformat()})")
        report.quarantine_emptied += 1
    for case in data.cases:
        evidence_keys.update(str(case[k]) for k in ("json_key", "pdf_key") if case.get(k))
    for key in letters(data):
        accounting = key.startswith("invoices/")
        if accounting or key in evidence_keys:
            report.objects_kept.append(key)
        elif files is not None:
            files.delete(key)
            report.objects_deleted.append(key)
        else:
            report.objects_kept.append(key)
    return report


# ---------------------------------------------------------------------------- helpers
def _evidence_retained(meta: Mapping[str, Any], kind: str, today: dt.date) -> bool:
    """Evidence of a formal notice is kept while the debt is open or its limitation period runs."""
    if meta.get("status", "open") == "open":
        return True
    data = meta.get("data") or {}
    try:
        due = dt.date.fromisoformat(str(data["due"]))
        delivered = dt.date.fromisoformat(str(data["delivered"])) if data.get("delivered") else None
        return today <= limitation_date(kind if kind in ("b2b", "b2c", "public") else "b2b", due, delivered).date
    except (KeyError, ValueError, RelanceError):
        return True       # unknown dates: keep the evidence rather than lose it


# Credentials, not personal data: a Step Functions task token (outcome_token, task_token) resumes the
# escalation for whoever holds it, a signature opens the approval page. Never exported (issue 14.3).
_SECRET_FIELD = re.compile(r"token|secret|signature|^sig$", re.IGNORECASE)


def _plain(value: Any) -> Any:
    """DynamoDB values -> JSON: Decimal as a string (money) or an int, sets as sorted lists; secrets left out."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) > 10**6 else str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if not _SECRET_FIELD.search(str(k))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
