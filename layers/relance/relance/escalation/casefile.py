"""The case file handed to a partner: invoices with amounts computed by the law core, the contact history,
disputes and promises, the limitation dates and the suggested route; as JSON and as a PDF.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from relance.dispatch import invoice_line
from relance.escalation.letters import notice_date
from relance.law.limitation import limitation_date, near_warnings
from relance.models import Customer
from relance.money import ZERO, cents
from relance.store import InvoiceRecord

SMALL_CLAIMS_LIMIT = Decimal("5000.00")
HISTORY_KINDS_OF_CONTACT = {"sent", "send_refused", "flagged", "email_bounced", "delivered", "approval_requested"}
_DETAIL_KEYS = ("step", "channel", "to", "message_id", "key", "subject", "reason", "amount", "until",
                "tracking", "outcome")


def route_reason(partner_kind: str, case_balance: Decimal, customer_kind: str) -> str:
    """Why this route, in French, for the approver and the file."""
    if partner_kind == "avocat":
        return ("acheteur public : avocat, pour saisir le juge administratif (référé-provision, CJA R541-1) ; "
                "ni injonction de payer ni société de recouvrement ; déchéance quadriennale (loi n° 68-1250)")
    if partner_kind == "commissaire_de_justice":
        if case_balance <= SMALL_CLAIMS_LIMIT:
            return ("solde du dossier ≤ 5 000 € : procédure simplifiée de recouvrement des petites créances "
                    "par commissaire de justice (CPCE L125-1, R125-1)")
        return "commissaire de justice : recouvrement puis, à défaut d'accord, injonction de payer"
    text = ("solde du dossier > 5 000 € : recouvrement amiable par une société de recouvrement "
            "(mandat écrit, CPCE R124-3), puis injonction de payer à défaut de paiement")
    if customer_kind == "b2c":
        text += " ; débiteur consommateur : aucuns frais à sa charge (CPCE L111-8)"
    return text


def _history(record: InvoiceRecord, events: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    out = []
    for event in events:
        details = dict(event.get("details") or {})
        entry = {"date": str(event.get("date", "")), "invoice": record.invoice_id, "kind": str(event.get("kind"))}
        entry.update({k: str(details[k]) for k in _DETAIL_KEYS if details.get(k) not in (None, "")})
        out.append(entry)
    return out


def build_case(case: Mapping[str, Any], customer: Customer, records: Sequence[InvoiceRecord],
               events: Mapping[str, Sequence[Mapping[str, Any]]], company: Mapping[str, str], today: dt.date,
               partner: Mapping[str, str]) -> dict[str, Any]:
    """The case file as a JSON-able dict. Amounts are computed on ``today`` by the law core."""
    invoices: list[dict[str, Any]] = []
    history: list[dict[str, str]] = []
    disputes: list[dict[str, str]] = []
    promises: list[dict[str, str]] = []
    warnings: list[str] = []
    for record in records:
        letter = next((s for s in record.sent if not s.flagged and "letter" in s.channels), None)
        # deadlines and consumer interest run from the letter's receipt (else posting + delivery days)
        notice_on = notice_date(events.get(record.invoice_id, []), letter.step, letter.date) if letter else None
        line, missing = invoice_line(customer, record, today, "handoff", notice_on)
        if missing:
            warnings.append(f"facture {record.invoice_id} : pénalités non calculées ({missing})")
        delivered = record.raw.get("delivered")
        limit_start = dt.date.fromisoformat(str(delivered)) if delivered else None
        limit = limitation_date(customer.kind, line.due, limit_start)
        indemnity = ZERO if customer.kind == "b2c" else line.indemnity
        warnings.extend(near_warnings(customer.kind, [(record.invoice_id, line.due, limit_start)], today))
        invoices.append({
            "id": record.invoice_id, "issued": line.issued.isoformat(), "due": line.due.isoformat(),
            "amount": str(cents(line.amount)), "paid": str(cents(line.paid)), "balance": str(cents(line.balance)),
            "days_late": line.days_late, "penalties": str(cents(line.penalties)),
            "indemnity": str(cents(indemnity)), "rate": str(line.rate) if line.rate is not None else None,
            "claimed": str(cents(line.balance + line.penalties + indemnity)), "status": record.status,
            "payments": [{"date": d.isoformat(), "amount": str(a)} for d, a in record.payments],
            "disputed": record.disputed,
            "promise_until": record.promise_until.isoformat() if record.promise_until else None,
            "limitation_date": limit.date.isoformat(), "limitation_basis": limit.basis,
        })
        entries = _history(record, events.get(record.invoice_id, ()))
        history.extend(entries)
        for entry in entries:
            reason = entry.get("reason", "")
            if entry["kind"] in ("paused", "resumed") and "dispute" in reason:
                disputes.append(entry)
            elif entry["kind"] in ("paused", "resumed") and "promise" in reason:
                promises.append(entry)
    history.sort(key=lambda e: (e["date"], e["invoice"], e["kind"]))
    balance = cents(sum((Decimal(i["balance"]) for i in invoices), ZERO))
    penalties = cents(sum((Decimal(i["penalties"]) for i in invoices), ZERO))
    indemnity = cents(sum((Decimal(i["indemnity"]) for i in invoices), ZERO))
    return {
        "case_id": case["case_id"], "built_on": today.isoformat(), "run_date": case.get("run_date"),
        "creditor": dict(company),
        "debtor": {"id": customer.id, "name": customer.name, "kind": customer.kind, "siren": customer.siren,
                   "address": customer.address, "email": customer.email, "phone": customer.phone,
                   "language": customer.language},
        "invoices": invoices,
        "totals": {"balance": str(balance), "penalties": str(penalties), "indemnity": str(indemnity),
                   "claimed": str(cents(balance + penalties + indemnity))},
        "history": history, "disputes": disputes, "promises": promises,
        "limitation_date": min((i["limitation_date"] for i in invoices), default=None),
        "route": {"partner": case.get("partner"), "partner_id": partner.get("id"),
                  "partner_name": partner.get("name"), "partner_kind": partner.get("kind"),
                  "reason": route_reason(partner.get("kind", ""), balance, customer.kind)},
        "approval_required": bool(case.get("approval", True)),
        "warnings": warnings,
    }


def case_json(case_file: Mapping[str, Any]) -> bytes:
    return json.dumps(case_file, ensure_ascii=False, indent=2, default=str).encode()


def case_pdf(case_file: Mapping[str, Any]) -> bytes:
    """The case file as a PDF. fpdf2 is imported only here: it costs ~400 ms of every cold start otherwise."""
    from relance.escalation.casefile_pdf import draw_case_pdf

    return draw_case_pdf(case_file)
