"""The case file drawn as a PDF (fpdf2, core fonts): kept apart so that only drawing pays for fpdf2's import."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from fpdf import FPDF

from relance.rendering.pdf import pdf_text


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


def draw_case_pdf(case_file: Mapping[str, Any]) -> bytes:
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
