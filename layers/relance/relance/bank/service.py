"""Import a statement: parse, decide entry by entry, book what is certain, put the rest to the team.

Nothing is booked from a refused file (the whole file is parsed first). Each entry is booked at most once:
its key (bank reference, else a hash) is claimed with a conditional write before its payments are recorded
through the ledger, so stops, pauses and history behave as for any other payment. An entry that could not
be matched is kept with its candidates and one team task; ``relance bank match ENTRY INVOICE...`` books it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from relance.bank import Statement, StatementEntry, parse_statement
from relance.bank.matcher import Allocation, Decision, allocate, decide, euros
from relance.bank.ports import BankStore, Notify, OpenInvoice
from relance.errors import NotFoundError, RelanceError, ValidationError
from relance.ledger import Ledger, invoice_due
from relance.money import ZERO


@dataclass
class EntryResult:
    entry: StatementEntry
    status: str    # booked | unmatched | already | ignored | failed; dry run: matched | parsed (no table)
    reason: str = ""
    payments: tuple[Allocation, ...] = ()
    candidates: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"entry": self.entry.key, "where": self.entry.where,
                               "date": self.entry.booking_date.isoformat(), "amount": f"{self.entry.amount:.2f}",
                               "credit": self.entry.credit, "status": self.status, "reason": self.reason}
        if self.payments:
            out["payments"] = [{"invoice": a.invoice_id, "customer": a.customer_id, "amount": f"{a.amount:.2f}"}
                               for a in self.payments]
        if self.candidates:
            out["candidates"] = {c: list(ids) for c, ids in self.candidates.items()}
        return out


@dataclass
class BankReport:
    source: str
    format: str
    dry_run: bool
    results: list[EntryResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "ok": True, "kind": "bank_statement", "format": self.format,
                "dry_run": self.dry_run,
                "counts": {s: self.count(s) for s in ("booked", "matched", "unmatched", "already", "ignored",
                                                      "failed", "parsed")},
                "entries": [r.to_json() for r in self.results]}

    def to_text(self) -> str:
        lines = [f"{self.source}: {self.format}, {len(self.results)} entries"
                 + (" (dry run: nothing booked)" if self.dry_run else "")]
        for r in self.results:
            paid = ", ".join(f"{a.invoice_id} {a.amount:.2f}" for a in r.payments)
            lines.append(f"  {r.entry.key}  {r.entry.booking_date}  {'+' if r.entry.credit else '-'}"
                         f"{r.entry.amount:.2f}  {r.status}" + (f"  [{paid}]" if paid else "")
                         + (f"  {r.reason}" if r.reason else ""))
        return "\n".join(lines)


def reference_of(source: str, entry: StatementEntry) -> str:
    """The payment's source reference in the invoice history: the statement and the entry."""
    return f"bank:{source}#{entry.key}"


def _record(entry: StatementEntry, source: str, decision: Decision, status: str, today: dt.date) -> dict[str, Any]:
    return {"status": status, "entry": entry.to_json(), "source": source, "reason": decision.reason,
            "rule": decision.rule, "seen_on": today.isoformat(),
            "payments": [{"invoice": a.invoice_id, "customer": a.customer_id, "amount": f"{a.amount:.2f}"}
                         for a in decision.allocations],
            "candidates": {c: list(ids) for c, ids in decision.candidates.items()}}


def _task(notify: Notify | None, source: str, entry: StatementEntry, decision: Decision) -> None:
    if notify is None:
        return
    lines = [f"Un virement reçu n'a pas été rapproché automatiquement ({source}, {entry.where}).",
             f"Écriture {entry.key} du {entry.booking_date.strftime('%d/%m/%Y')} : {euros(entry.amount)}",
             f"Payeur : {entry.payer_name or 'inconnu'}" + (f" (IBAN {entry.payer_iban})" if entry.payer_iban else ""),
             f"Libellé : {entry.remittance or '(vide)'}", f"Pourquoi : {decision.reason}"]
    if decision.candidates:
        lines.append("Factures possibles :")
        lines += [f"  client {c} : {', '.join(ids) or '(aucune facture ouverte)'}"
                  for c, ids in decision.candidates.items()]
    lines.append(f"Pour l'enregistrer : relance bank match {entry.key} FACTURE...")
    invoices = sorted({i for ids in decision.candidates.values() for i in ids})
    notify(f"Virement de {euros(entry.amount)} à rapprocher ({entry.key})", "\n".join(lines),
           decision.customer, invoices)


def _after(invoices: list[OpenInvoice], paid: tuple[Allocation, ...]) -> list[OpenInvoice]:
    """The open invoices once ``paid`` is booked (a later entry of the same file sees the new balances)."""
    by_id = {a.invoice_id: a.amount for a in paid}
    out = []
    for invoice in invoices:
        left = invoice.balance - by_id.get(invoice.invoice_id, ZERO)
        if left > 0:
            out.append(replace(invoice, balance=left))
    return out


def book(ledger: Ledger, store: BankStore, source: str, entry: StatementEntry, payments: tuple[Allocation, ...],
         today: dt.date, reason: str = "") -> None:
    """Record each payment through the ledger (with the match's reason in the invoice's history), then learn
    the payer's IBAN for next time."""
    paid_on = min(entry.booking_date, today)
    for allocation in payments:
        ledger.record_payment(allocation.invoice_id, allocation.amount, paid_on, reference_of(source, entry))
        if reason:
            ledger.note(allocation.invoice_id, paid_on, "bank_match",
                        {"entry": entry.key, "source": source, "reason": reason[:500]})
    customers = {a.customer_id for a in payments}
    if entry.payer_iban and len(customers) == 1:
        store.learn_iban(entry.payer_iban, customers.pop(), today)


def import_statement(data: bytes, source: str, ledger: Ledger | None, store: BankStore | None, today: dt.date, *,
                     notify: Notify | None = None, dry_run: bool = False) -> BankReport:
    """Parse ``data`` (BankFileError if refused: nothing booked) and process each entry."""
    statement: Statement = parse_statement(data, source)
    report = BankReport(source, statement.format, dry_run)
    invoices = store.open_invoices() if store is not None else []
    for entry in statement.entries:
        if not entry.credit:
            report.results.append(EntryResult(entry, "ignored", "débit"))
            continue
        if store is None:
            report.results.append(EntryResult(entry, "parsed", "sans table : rapprochement non calculé"))
            continue
        seen = store.get_entry(entry.key)
        if seen is not None:
            report.results.append(EntryResult(entry, "already", f"déjà traitée ({seen.get('status')}) le "
                                                                  f"{seen.get('seen_on', '?')}"))
            continue
        known = store.customers_of_iban(entry.payer_iban) if entry.payer_iban else set()
        decision = decide(entry, invoices, known)
        if dry_run:
            status = "matched" if decision.matched else "unmatched"
            report.results.append(EntryResult(entry, status, decision.reason, decision.allocations,
                                              dict(decision.candidates)))
            if decision.matched:
                invoices = _after(invoices, decision.allocations)
            continue
        if not decision.matched:
            if store.put_unmatched(entry.key, _record(entry, source, decision, "unmatched", today)):
                _task(notify, source, entry, decision)
                report.results.append(EntryResult(entry, "unmatched", decision.reason, (),
                                                  dict(decision.candidates)))
            else:
                report.results.append(EntryResult(entry, "already", "déjà traitée"))
            continue
        if not store.claim_entry(entry.key, _record(entry, source, decision, "booked", today)):
            report.results.append(EntryResult(entry, "already", "déjà comptabilisée"))
            continue
        assert ledger is not None
        try:
            book(ledger, store, source, entry, decision.allocations, today, decision.reason)
        except RelanceError as exc:
            # Claimed but not (fully) booked: never retried automatically (at most once); a person decides.
            failed = Decision(f"{decision.reason} ; non comptabilisé : {exc}", decision.rule,
                              candidates={decision.customer: tuple(a.invoice_id for a in decision.allocations)})
            store.set_entry(entry.key, {"status": "unmatched", "reason": failed.reason})
            _task(notify, source, entry, failed)
            report.results.append(EntryResult(entry, "failed", failed.reason, (), dict(failed.candidates)))
            continue
        invoices = _after(invoices, decision.allocations)
        report.results.append(EntryResult(entry, "booked", decision.reason, decision.allocations))
    return report


def match_entry(key: str, invoice_ids: list[str], ledger: Ledger, store: BankStore, today: dt.date) -> EntryResult:
    """Book an entry put to the team on the invoices a person chose (``relance bank match``)."""
    seen = store.get_entry(key)
    if seen is None:
        raise NotFoundError(f"no statement entry {key} (see the team task or the import report)", f"entry {key}")
    if seen.get("status") == "booked":
        raise ValidationError("this entry is already booked; nothing done", f"entry {key}")
    entry = StatementEntry.from_json(dict(seen["entry"]))
    chosen: list[OpenInvoice] = []
    for invoice_id in dict.fromkeys(invoice_ids):
        record = ledger.invoice(invoice_id)
        if record.status not in ("open", "handed_off"):
            raise ValidationError(f"invoice is {record.status}; a payment cannot be recorded on it",
                                  f"invoice {invoice_id}")
        chosen.append(OpenInvoice(invoice_id, record.customer_id, record.balance, invoice_due(record)))
    if not chosen:
        raise ValidationError("name at least one invoice", "INVOICE")
    payments = allocate(entry.amount, chosen)
    reason = f"rapproché à la main sur {', '.join(i.invoice_id for i in chosen)}"
    decision = Decision(reason, "manual", payments)
    if not store.claim_entry(key, _record(entry, str(seen.get("source", "")), decision, "booked", today)):
        raise ValidationError("this entry was booked meanwhile; nothing done", f"entry {key}")
    book(ledger, store, str(seen.get("source", "")), entry, payments, today, reason)
    return EntryResult(entry, "booked", reason, payments)

