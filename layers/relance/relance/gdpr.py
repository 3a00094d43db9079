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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from relance.errors import NotFoundError, RelanceError
from relance.law.limitation import limitation_date
from relance.store import Store, _from_item, _to_item, quarantine_items

ERASED = "erased"
# Customer fields an erasure keeps: what the accounting and the legal regime need, nothing to contact.
KEPT_CUSTOMER_FIELDS = ("id", "kind", "language", "policy")
# History details that are free text or contact data.
FREE_TEXT_DETAILS = ("reason", "reference", "subject", "flag_reason")
CONTACT_DETAILS = ("to",)
EVIDENCE_STEPS = frozenset({"formal_notice"})
ACCOUNTING_RETENTION_YEARS = 10     # C. com. L123-22


@dataclass
class CustomerData:
    """Every item stored about one customer (decoded), and the S3 keys that name it."""

    customer_id: str
    profile: dict[str, Any] | None
    pointers: list[dict[str, Any]] = field(default_factory=list)
    invoices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)    # id -> META, CLAIM#, EVT# items
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open_invoices(self) -> list[str]:
        return sorted(iid for iid, items in self.invoices.items()
                      if (meta := _meta(items)) is not None and meta.get("status", "open") == "open")

    def letters(self) -> list[str]:
        """Keys of the letters bucket that concern this customer (letters, print queue, invoices, cases)."""
        keys: set[str] = set()
        for items in self.invoices.values():
            meta = _meta(items)
            if meta and meta.get("attachment_key"):
                keys.add(str(meta["attachment_key"]))
            for event in _events(items):
                details = event.get("details") or {}
                if details.get("key"):
                    keys.add(str(details["key"]))
                if event.get("kind") == "sent" and details.get("channel") == "letter" and details.get("message_id"):
                    keys.add(str(details["message_id"]))          # the print-queue entry
        for case in self.cases:
            keys.update(str(case[k]) for k in ("json_key", "pdf_key") if case.get(k))
        return sorted(keys)


def collect(store: Store, customer_id: str) -> CustomerData:
    """Everything stored about ``customer_id``. NotFoundError when nothing at all is stored."""
    profile: dict[str, Any] | None = None
    pointers: list[dict[str, Any]] = []
    invoice_ids: set[str] = set()
    cases: list[dict[str, Any]] = []
    for item in _scan_for(store, customer_id):
        pk, sk = str(item["pk"]), str(item["sk"])
        if pk == f"CUST#{customer_id}":
            if sk == "PROFILE":
                profile = item
            else:
                pointers.append(item)
                if sk.startswith("OPEN#"):
                    invoice_ids.add(sk.removeprefix("OPEN#"))
        elif pk.startswith("INV#") and sk == "META":
            invoice_ids.add(pk.removeprefix("INV#"))
        elif pk.startswith("CASE#"):
            cases.append(item)
    if profile is None and not invoice_ids:
        raise NotFoundError(f"customer {customer_id} does not exist")
    data = CustomerData(customer_id, profile, pointers, cases=cases)
    for iid in sorted(invoice_ids):
        data.invoices[iid] = list(store._query(KeyConditionExpression="pk = :pk",
                                               ExpressionAttributeValues=_to_item({":pk": f"INV#{iid}"}),
                                               ConsistentRead=True))
    keys = [("customer", customer_id), *(("invoice", iid) for iid in invoice_ids)]
    data.quarantine = quarantine_items(store, keys)
    return data


def export(store: Store, customer_id: str) -> dict[str, Any]:
    """A JSON-ready document of everything stored about a customer (GDPR art. 15 and 20)."""
    data = collect(store, customer_id)
    invoices = []
    for iid, items in sorted(data.invoices.items()):
        meta = _meta(items) or {}
        invoices.append({
            "id": iid, "invoice": _plain(meta.get("data", {})), "status": meta.get("status"),
            "balance": _plain(meta.get("balance")), "payments": _plain(meta.get("payments", [])),
            "sent": _plain(meta.get("sent", [])), "attachment_key": meta.get("attachment_key"),
            "claims": [_plain({k: v for k, v in c.items() if k not in ("pk",)}) for c in items
                       if str(c["sk"]).startswith("CLAIM#")],
            "history": [_plain({"date": e.get("date"), "kind": e.get("kind"), "details": e.get("details", {}),
                                "expires_at": e.get("expires_at")}) for e in _events(items)],
        })
    return {
        "customer": data.customer_id,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "profile": _plain(data.profile.get("data")) if data.profile else None,
        "invoices": invoices,
        "quarantine": [_plain({k: v for k, v in q.items() if k not in ("pk", "sk")}) for q in data.quarantine],
        "cases": [_plain({k: v for k, v in c.items() if k not in ("pk", "sk")}) for c in data.cases],
        "letters": data.letters(),
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


def erase(store: Store, customer_id: str, today: dt.date, *, force: bool = False, s3: Any = None,
          bucket: str | None = None, ledger: Any = None) -> ErasureReport:
    """Erase a customer's personal data, keeping what the law requires (module docstring).

    Refuses (RelanceError) when the customer has open invoices, unless ``force``: then their reminders are
    paused first (a customer we may no longer contact cannot be chased). ``s3``/``bucket`` let it delete the
    letters that are not evidence; without them S3 objects are only listed as kept.
    """
    data = collect(store, customer_id)
    still_open = data.open_invoices
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
        store.client.put_item(TableName=store.table, Item=_to_item(
            {**{k: v for k, v in data.profile.items() if k != "data"}, "data": kept, "erased_on": today.isoformat()}))
        report.profile = "pseudonymised"
    evidence_keys: set[str] = set()
    for items in data.invoices.values():
        meta = _meta(items) or {}
        keep_evidence = _evidence_retained(meta, kind, today)
        for event in _events(items):
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
                store.client.update_item(
                    TableName=store.table, Key=_to_item({"pk": event["pk"], "sk": event["sk"]}),
                    UpdateExpression="SET details = :d", ExpressionAttributeValues=_to_item({":d": new}))
                report.events_pseudonymised += 1
    for q in data.quarantine:
        store.client.update_item(
            TableName=store.table, Key=_to_item({"pk": q["pk"], "sk": q["sk"]}),
            UpdateExpression="SET #r = :e, reason = :reason",
            ExpressionAttributeNames={"#r": "record"},
            ExpressionAttributeValues=_to_item({":e": {}, ":reason": f"{ERASED} (GDPR, {today.isoformat()})"}))
        report.quarantine_emptied += 1
    for case in data.cases:
        evidence_keys.update(str(case[k]) for k in ("json_key", "pdf_key") if case.get(k))
    for key in data.letters():
        accounting = key.startswith("invoices/")
        if accounting or key in evidence_keys:
            report.objects_kept.append(key)
        elif s3 is not None and bucket:
            s3.delete_object(Bucket=bucket, Key=key)
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


def _scan_for(store: Store, customer_id: str) -> Iterator[dict[str, Any]]:
    paginator = store.client.get_paginator("scan")
    for page in paginator.paginate(
            TableName=store.table,
            FilterExpression="pk = :cust OR (#t = :invoice AND #d.#c = :cid) OR (#t = :case AND #c = :cid)",
            ExpressionAttributeNames={"#t": "type", "#d": "data", "#c": "customer"},
            ExpressionAttributeValues=_to_item({":cust": f"CUST#{customer_id}", ":cid": customer_id,
                                                ":invoice": "invoice", ":case": "case"}),
            ConsistentRead=True):
        for item in page["Items"]:
            yield _from_item(item)


def _meta(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((i for i in items if i.get("sk") == "META"), None)


def _events(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if str(i.get("sk", "")).startswith("EVT#")]


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
