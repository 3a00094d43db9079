"""The weekly digest for the team: the week's messages, payments, pending approvals, flagged claims, aging.

Built from the table with bounded reads only (no Scan): the invoices being chased come from the sparse due
index, those whose state changed during the week (including those paid in full, handed off or paused
since, which left the index) from the week's seven ``ACT#<date>`` partitions, each one's week of history
from one range query on its item collection, the pending approvals from their own small partition. The
figures are :mod:`relance.reporting.figures`; the mail is rendered from ``templates/digest.*.j2``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from relance.reporting import render, stylesheet
from relance.reporting.figures import OWED, ZERO, Invoice, aging
from relance.reporting.labels import step_name, t
from relance.store import Store, events_between

HORIZON_DAYS = 3 * 366   # next actions are never further than this from today


@dataclass
class Digest:
    """The week's figures; ``html``/``text`` render them."""

    week_start: dt.date
    week_end: dt.date
    company: str
    invoices: list[Invoice] = field(default_factory=list)
    customers: dict[str, str] = field(default_factory=dict)
    messages: list[tuple[str, str, str, str, str]] = field(default_factory=list)   # date, customer, inv, step, ch
    payments: list[tuple[str, str, str, Decimal]] = field(default_factory=list)    # date, customer, inv, amount
    flagged: list[tuple[str, str, str, str]] = field(default_factory=list)         # date, customer, inv, reason
    approvals: list[tuple[str, str]] = field(default_factory=list)                 # expires, case
    to_decide: list[tuple[str, str, Decimal, str]] = field(default_factory=list)   # customer, inv, balance, why

    @property
    def subject(self) -> str:
        return render("digest.subject.j2", digest=self).strip()

    def html(self) -> str:
        rows = aging(self.invoices, self.week_end)
        total = (sum(n for _, n, _ in rows), sum((a for _, _, a in rows), ZERO))
        name = self.customer_name
        return render("digest.html.j2", digest=self, css=stylesheet(),
                      messages=[(d, name(c), i, step_name(s), t(ch)) for d, c, i, s, ch in self.messages],
                      payments=[(d, name(c), i, a) for d, c, i, a in self.payments],
                      flagged=[(d, name(c), i, r) for d, c, i, r in self.flagged],
                      to_decide=[(name(c), i, a, r) for c, i, a, r in self.to_decide],
                      aging=[(t(b), n, a) for b, n, a in rows], aging_total=total,
                      outstanding=self.outstanding, deciding=self.deciding)

    def text(self) -> str:
        return render("digest.txt.j2", digest=self, aging=[(t(b), n, a) for b, n, a in aging(self.invoices,
                                                                                           self.week_end)],
                      payments_total=sum((a for *_, a in self.payments), ZERO),
                      outstanding=self.outstanding, deciding=self.deciding)

    @property
    def outstanding(self) -> Decimal:
        """Still owed at the end of the week, « à décider » included (closed only by money or a person)."""
        return sum((i.balance for i in self.invoices if i.valid and i.status in OWED), ZERO)

    @property
    def deciding(self) -> Decimal:
        return sum((a for _, _, a, _ in self.to_decide), ZERO)

    def customer_name(self, customer_id: str) -> str:
        return self.customers.get(customer_id, customer_id)


def build_digest(store: Store, week_end: dt.date, company: str = "") -> Digest:
    """The digest of the 7 days ending on ``week_end`` (inclusive)."""
    start = week_end - dt.timedelta(days=6)
    digest = Digest(start, week_end, company)
    # Invoices « à décider » have no next action and may have been quiet all week: still owed, still shown.
    waiting = _to_decide(store)
    entries = sorted(set(store.due_entries(week_end + dt.timedelta(days=HORIZON_DAYS)))
                     | store.active_invoices(start, week_end) | {(p["customer"], p["invoice"]) for p in waiting})
    items = store.get_invoice_items([i for _, i in entries])
    for customer_id, invoice_id in entries:
        item = items.get(invoice_id)
        if item is None:
            continue
        data = item.get("data") or {}
        status = str(item.get("status", "open"))
        try:
            digest.invoices.append(Invoice(
                invoice_id, customer_id, _day(data.get("issued")), _day(data.get("due")),
                Decimal(str(data.get("amount", "0"))), Decimal(str(item.get("balance", "0"))),
                status, to_decide=bool(item.get("to_decide")) and status == "open"))
        except ArithmeticError:
            continue
        if digest.invoices[-1].to_decide:
            digest.to_decide.append((customer_id, invoice_id, digest.invoices[-1].balance,
                                     str(item.get("to_decide", ""))))
        if customer_id not in digest.customers:
            profile = store.get_customer_raw(customer_id) or {}
            digest.customers[customer_id] = str(profile.get("name", customer_id))
        for event in events_between(store, invoice_id, start, week_end):
            _add(digest, customer_id, invoice_id, event)
    pending = getattr(store, "pending_approvals", None)
    if callable(pending):
        digest.approvals = [(str(p.get("sk", "")).split("#", 1)[0], str(p.get("case_id", ""))) for p in pending()]
    digest.messages.sort()
    digest.payments.sort()
    digest.flagged.sort()
    digest.to_decide.sort()
    return digest


def _to_decide(store: Store) -> list[dict[str, str]]:
    from relance.escalation import decisions

    try:
        return decisions.pointers(store)
    except AttributeError:      # a store without a table (tests' fakes): nothing waits
        return []


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _add(digest: Digest, customer: str, invoice: str, event: dict[str, Any]) -> None:
    details = event.get("details") or {}
    day, kind = str(event.get("date", "")), str(event.get("kind", ""))
    if kind == "sent":
        # One grouped message is recorded on each of its invoices: list it once, on its first invoice.
        grouped = list(details.get("invoices") or [invoice])
        if invoice == sorted(grouped)[0]:
            digest.messages.append((day, customer, ", ".join(sorted(grouped)), str(details.get("step", "")),
                                    str(details.get("channel", ""))))
    elif kind == "payment":
        digest.payments.append((day, customer, invoice, Decimal(str(details.get("amount", "0")))))
    elif kind == "flagged":
        digest.flagged.append((day, customer, invoice, str(details.get("reason", ""))))
