"""The case file handed to a partner: invoices with amounts computed by the law core, the contact history,
disputes and promises, the limitation dates and the suggested route; as JSON and as a PDF.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from fpdf import FPDF

from relance.dispatch import invoice_line
from relance.law.limitation import limitation_date
from relance.models import Customer
from relance.money import ZERO, cents
from relance.rendering.pdf import pdf_text
from relance.store import InvoiceRecord

SMALL_CLAIMS_LIMIT = Decimal("5000.00")
HISTORY_KINDS_OF_CONTACT = {"sent", "send_refused", "flagged", "email_bounced", "delivered", "approval_requested"}
_DETAIL_KEYS = ("step", "channel", "to", "message_id", "key", "subject", "reason", "amount", "until")


def route_reason(partner_kind: str, case_balance: Decimal, customer_kind: str) -> str:
    """Why this route, in French, for the approver and the file."""
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
        line, missing = invoice_line(customer, record, today, "handoff")
        if missing:
            warnings.append(f"invoice {record.invoice_id}: penalties not computed ({missing})")
        delivered = record.raw.get("delivered")
        limit = limitation_date(customer.kind, line.due,
                                dt.date.fromisoformat(str(delivered)) if delivered else None)
        indemnity = ZERO if customer.kind == "b2c" else line.indemnity
        if limit.date < today:
            warnings.append(f"invoice {record.invoice_id} is time-barred since {limit.date.isoformat()}")
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


# ---- PDF ------------------------------------------------------------------------------------------
class _Pdf(FPDF):
    case_id = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, pdf_text(f"Dossier {self.case_id} - page {self.page_no()}/{{nb}}"), align="C")


def _eur(value: str | Decimal) -> str:
    amount = f"{Decimal(str(value)):,.2f}".replace(",", " ").replace(".", ",")
    return f"{amount} €"


def _table(pdf: FPDF, widths: Sequence[float], head: Sequence[str], rows: Sequence[Sequence[str]],
           aligns: str) -> None:
    pdf.set_font("helvetica", "B", 7.5)
    pdf.set_fill_color(230, 230, 230)
    for width, text in zip(widths, head, strict=True):
        pdf.cell(width, 5.5, pdf_text(text), border=1, fill=True, align="C")
    pdf.ln()
    pdf.set_font("helvetica", size=7.5)
    for row in rows:
        if pdf.get_y() > 270:
            pdf.add_page()
        for width, text, align in zip(widths, row, aligns, strict=True):
            value = pdf_text(text)
            while value and pdf.get_string_width(value) > width - 1.5:
                value = value[:-2] + "…"
            pdf.cell(width, 5, value, border=1, align=align)
        pdf.ln()


def case_pdf(case_file: Mapping[str, Any]) -> bytes:
    """The case file as a few pages of simple tables (fpdf2, core fonts)."""
    pdf = _Pdf(format="A4")
    pdf.core_fonts_encoding = "cp1252"   # like rendering.pdf: €, œ, « » in the core fonts
    pdf.case_id = str(case_file["case_id"])
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    width = pdf.w - 30

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(width, 7, pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    def line(text: str, bold: bool = False) -> None:
        pdf.set_font("helvetica", "B" if bold else "", 9)
        pdf.multi_cell(width, 4.6, pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    creditor, debtor, totals, route = (case_file["creditor"], case_file["debtor"], case_file["totals"],
                                       case_file["route"])
    pdf.set_font("helvetica", "B", 15)
    pdf.cell(width, 9, pdf_text("Dossier de recouvrement"), new_x="LMARGIN", new_y="NEXT")
    line(f"Référence {case_file['case_id']} - établi le {case_file['built_on']}")
    heading("Créancier")
    line(f"{creditor.get('name')}, SIREN {creditor.get('siren')}")
    line(f"{creditor.get('address')} - {creditor.get('email')}")
    heading("Débiteur")
    kind = {"b2b": "entreprise", "b2c": "particulier (consommateur)", "public": "acheteur public"}
    line(f"{debtor['name']} ({kind.get(debtor['kind'], debtor['kind'])})"
         + (f", SIREN {debtor['siren']}" if debtor.get("siren") else ""))
    line(", ".join(str(v) for v in (debtor.get("address"), debtor.get("email"), debtor.get("phone")) if v)
         or "coordonnées non renseignées")
    heading("Factures")
    _table(pdf, (24, 19, 19, 22, 20, 22, 12, 20, 16, 26),
           ("Facture", "Émise", "Échéance", "Montant TTC", "Payé", "Solde", "Jours", "Pénalités",
            "Indemnité", "Prescription"),
           [(i["id"], i["issued"], i["due"], _eur(i["amount"]), _eur(i["paid"]), _eur(i["balance"]),
             str(i["days_late"]), _eur(i["penalties"]), _eur(i["indemnity"]), i["limitation_date"])
            for i in case_file["invoices"]], "LCCRRRRRRC")
    pdf.ln(1)
    line(f"Principal restant dû {_eur(totals['balance'])} ; pénalités ou intérêts {_eur(totals['penalties'])} ; "
         f"indemnités forfaitaires {_eur(totals['indemnity'])} ; total de la créance {_eur(totals['claimed'])} "
         f"(calculés au {case_file['built_on']}).", bold=True)
    if debtor["kind"] == "b2c":
        line("Débiteur consommateur : aucuns frais de recouvrement à sa charge (CPCE L111-8) ; "
             "les courriers d'une société de recouvrement portent les mentions de l'art. R124-4 CPCE.")
    heading("Voie proposée")
    line(f"{route.get('partner_name') or route.get('partner')} - {route.get('reason')}")
    line(f"Première date de prescription : {case_file.get('limitation_date')}")
    for warning in case_file.get("warnings", []):
        line(f"Attention : {warning}", bold=True)
    heading("Historique des démarches")
    _table(pdf, (20, 22, 30, 24, 20, 64), ("Date", "Facture", "Événement", "Étape", "Canal", "Preuve / référence"),
           [(h["date"], h["invoice"], h["kind"], h.get("step", ""), h.get("channel", ""),
             h.get("key") or h.get("message_id") or h.get("reason") or h.get("amount", ""))
            for h in case_file["history"]] or [("", "", "aucune", "", "", "")], "LLLLLL")
    if case_file.get("disputes") or case_file.get("promises"):
        heading("Litiges et promesses")
        for entry in [*case_file.get("disputes", []), *case_file.get("promises", [])]:
            line(f"{entry['date']} - facture {entry['invoice']} - {entry['kind']} : {entry.get('reason', '')}")
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()
