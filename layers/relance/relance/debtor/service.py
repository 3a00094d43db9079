"""What the debtor's page does, callable without Lambda: check a link, show the page, take an answer.

An answer goes through the ledger like any other change (so the policy engine honours it at once):

- ``paid`` (date, optional reference): every ticked invoice pauses ``paid_pause_days`` (policy, 7 by
  default) while the bank catches up; a team task; with no payment by then the ladder resumes by itself;
- ``dispute`` (reason): a dispute on each ticked invoice (the ladder pauses) and a team task;
- ``promise`` (date): up to ``promise_max_days`` (policy, 30 by default) ahead, a promise to pay;
  beyond, no promise: a request to the team (task).

Each answer is a ``debtor_reply`` event in the history of each invoice it names. A link takes at most
``ANSWERS_PER_DAY`` answers a day (a conditional counter), and the same answer posted twice is taken once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from relance.debtor import links, page
from relance.debtor.links import LinkStore
from relance.escalation.services import PARIS, Services
from relance.models import Customer
from relance.store import InvoiceRecord

ANSWERS = ("paid", "dispute", "promise")
TASK_TEMPLATE = "debtor_reply"


@dataclass(frozen=True)
class Access:
    """A link checked: ``status`` 200 with the customer, or 403 (forged, expired, unknown: all alike)."""

    status: int
    link_id: str = ""
    customer_id: str = ""
    expires: dt.date | None = None
    reason: str = ""


@dataclass(frozen=True)
class Reply:
    """What a request gets back: status and page; ``log`` says what was recorded (for logs and tests)."""

    status: int
    html: str
    log: dict[str, Any] = field(default_factory=dict)


def today_of(now: float) -> dt.date:
    return dt.datetime.fromtimestamp(now, PARIS).date()


@dataclass
class DebtorPage:
    services: Services
    links: LinkStore
    key: bytes
    pdf_reader: Callable[[str], bytes | None] | None = None   # S3 key -> an original invoice PDF

    # ---- the link ---------------------------------------------------------------------------------
    def check(self, link_id: str, sig: str, now: float) -> Access:
        """The signature first (a forged link costs no read and tells nothing), then expiry, then the id."""
        expires_at = links.verify(self.key, link_id, sig)
        if expires_at is None:
            return Access(403, reason="forged")
        if now > expires_at:
            return Access(403, reason="expired")
        customer_id = self.links.customer_of(link_id)
        if customer_id is None:
            return Access(403, reason="unknown")
        return Access(200, link_id, customer_id, dt.datetime.fromtimestamp(expires_at, PARIS).date())

    # ---- reading ----------------------------------------------------------------------------------
    def _open(self, customer_id: str) -> tuple[Customer, list[InvoiceRecord]]:
        customer = self.services.customer(customer_id)
        _, open_ids = self.services.store.customer_collection(customer_id)
        records = [r for iid in sorted(open_ids) if (r := self.services.store.get_invoice(iid)) is not None
                   and r.status == "open" and r.balance > 0]
        return customer, records

    def show(self, access: Access, sig: str, now: float) -> Reply:
        customer, records = self._open(access.customer_id)
        today = today_of(now)
        if not records:
            return Reply(200, page.nothing_page(customer.language))
        policy = self.services.ledger.policy_for(customer)
        ctx = self.services.context(customer, "debtor_page", records, today, {})
        pdfs = {r.invoice_id: f"?{_query(sig=sig, pdf=r.invoice_id)}" for r in records if r.attachment_key}
        notes: list[tuple[str, dict[str, Any]]] = []
        for r in records:
            if r.disputed:
                notes.append(("note_disputed", {"invoice": r.invoice_id}))
            elif r.promise_until and r.promise_until >= today:
                notes.append(("note_paused", {"until": r.promise_until, "invoice": r.invoice_id}))
        html = page.debtor_page(ctx, sig=sig, today=today, expires=access.expires or today,
                                promise_limit=today + dt.timedelta(days=policy.promise_max_days),
                                pdf_links=pdfs, notes=notes)
        return Reply(200, html)

    def pdf(self, access: Access, invoice_id: str) -> tuple[int, bytes | None]:
        """The original PDF of one of this customer's invoices (404 for anything else)."""
        record = self.services.store.get_invoice(invoice_id)
        if record is None or record.customer_id != access.customer_id or not record.attachment_key \
                or self.pdf_reader is None:
            return 404, None
        content = self.pdf_reader(record.attachment_key)
        return (200, content) if content else (404, None)

    # ---- answering --------------------------------------------------------------------------------
    def answer(self, access: Access, form: Mapping[str, str], invoices: Sequence[str], now: float) -> Reply:
        customer, records = self._open(access.customer_id)
        lang = customer.language
        today = today_of(now)
        answer = form.get("answer", "")
        try:
            chosen = _chosen(records, invoices)
            details = _details(answer, form, today)
        except ValueError as exc:
            return Reply(400, page.outcome_page(lang, "bad", why=str(exc)))
        if not self.links.count_answer(access.link_id, today, links.ANSWERS_PER_DAY):
            return Reply(429, page.outcome_page(lang, "limit", contact=self.services.settings.reply_to_email))
        digest = hashlib.sha256(json.dumps([answer, sorted(r.invoice_id for r in chosen), details, str(today)],
                                           sort_keys=True).encode()).hexdigest()[:32]
        if not self.links.claim_answer(access.link_id, digest, today):
            return Reply(200, page.outcome_page(lang, "again"))
        try:
            outcome, until = self._record(customer, chosen, answer, details, today)
        except Exception:
            self.links.release_answer(access.link_id, digest)    # posting it again will record it
            raise
        ids = [r.invoice_id for r in chosen]
        shown_until = _long(until, lang) if until else ""
        return Reply(200, page.outcome_page(lang, outcome, until=shown_until),
                     {"answer": answer, "outcome": outcome, "invoices": ids, **details})

    def _record(self, customer: Customer, chosen: Sequence[InvoiceRecord], answer: str,
                details: Mapping[str, str], today: dt.date) -> tuple[str, str]:
        """Apply the answer through the ledger, note it in each history, tell the team: (outcome, until)."""
        policy = self.services.ledger.policy_for(customer)
        ids = [r.invoice_id for r in chosen]
        outcome = answer
        until = ""
        if answer == "paid":
            end = today + dt.timedelta(days=policy.paid_pause_days)
            until = end.isoformat()
            ref = f" (ref. {details['reference']})" if details.get("reference") else ""
            for iid in ids:
                self.services.ledger.await_payment(
                    iid, today, end, f"debtor says paid on {details['paid_on']}{ref}: waiting for the bank "
                                     f"until {until}")
        elif answer == "dispute":
            for r in chosen:
                if not r.disputed:
                    self.services.ledger.open_dispute(r.invoice_id, today, f"by the debtor: {details['reason']}")
        else:
            promised = dt.date.fromisoformat(details["until"])
            until = promised.isoformat()
            if promised <= today + dt.timedelta(days=policy.promise_max_days):
                for iid in ids:
                    self.services.ledger.record_promise(iid, today, promised)
            else:
                outcome = "request"
        event = {"answer": answer, "outcome": outcome, "invoices": ",".join(ids), **details}
        for iid in ids:
            self.services.store.add_event(iid, today, "debtor_reply", event)
        if outcome != "promise":
            self._task(customer, chosen, today, {**details, "answer": answer, "outcome": outcome,
                                                 "pause_until": until if answer == "paid" else ""})
        return outcome, until

    def _task(self, customer: Customer, records: Sequence[InvoiceRecord], today: dt.date,
              extra: Mapping[str, Any]) -> None:
        self.services.team_task(customer, TASK_TEMPLATE, records, today, {"debtor": dict(extra)})


def _query(**values: str) -> str:
    import urllib.parse

    return urllib.parse.urlencode(values)


def _long(iso: str, lang: str) -> str:
    from relance.rendering import formatting

    return formatting.date_long(dt.date.fromisoformat(iso), lang)


def _chosen(records: Sequence[InvoiceRecord], invoices: Sequence[str]) -> list[InvoiceRecord]:
    """The ticked invoices, all of them this customer's open ones (none ticked: refused)."""
    by_id = {r.invoice_id: r for r in records}
    if not records:
        raise ValueError("Nothing remains due. · Nothing remains due.")
    picked = [by_id[i] for i in dict.fromkeys(invoices) if i in by_id]
    if len(picked) != len(set(invoices)) or not picked:
        raise ValueError("Cochez au moins une facture de la liste. · Tick at least one invoice of the list.")
    return picked


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what} : date attendue (AAAA-MM-JJ). · {what}: a date is expected.") from None


def _details(answer: str, form: Mapping[str, str], today: dt.date) -> dict[str, str]:
    """The fields an answer needs, checked (dates, lengths); ValueError with a short bilingual reason."""
    if answer == "paid":
        raw = form.get("paid_on", "").strip()
        paid_on = _date(raw, "paid_on") if raw else today
        if paid_on > today or paid_on < today - dt.timedelta(days=366):
            raise ValueError("La date du paiement doit être passée (moins d'un an). · "
                             "The payment date must be in the past (less than a year).")
        reference = " ".join(form.get("reference", "").split())[:140]
        return {"paid_on": paid_on.isoformat(), **({"reference": reference} if reference else {})}
    if answer == "dispute":
        reason = " ".join(form.get("reason", "").split())[:1000]
        if not reason:
            raise ValueError("Dites-nous en quelques mots ce qui ne va pas. · Tell us briefly what is wrong.")
        return {"reason": reason}
    if answer == "promise":
        until = _date(form.get("until", ""), "until")
        if until <= today or until > today + dt.timedelta(days=366):
            raise ValueError("Choisissez une date à venir (moins d'un an). · Choose a future date "
                             "(within a year).")
        return {"until": until.isoformat()}
    raise ValueError("Choisissez une réponse. · Choose an answer.")
