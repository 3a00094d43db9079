"""The case file drawn as a PDF for a commissaire de justice or a collection agency (fpdf2, the embedded
DejaVu font of the letters): French dates and amounts, French event names, A4 portrait tables whose cells
wrap instead of cutting a reference. Kept apart so that only drawing pays for fpdf2's import."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from relance.rendering import formatting
from relance.rendering.fonts import FAMILY, UnicodePDF
from relance.rendering.pdf import _wrap, pdf_text

MARGIN = 15.0
WIDTH = 210.0 - 2 * MARGIN
CELL_LINE = 3.6
SIZE = 7.5

EVENTS = {
    "imported": "facture enregistrée", "created": "facture enregistrée", "sent": "envoi",
    "send_refused": "envoi refusé", "flagged": "signalé à l'équipe", "email_bounced": "courriel non distribué",
    "delivered": "distribué", "approval_requested": "validation demandée", "approved": "transmission validée",
    "rejected": "transmission refusée", "approval_expired": "demande de validation expirée",
    "escalation_started": "transmission engagée", "handed_off": "dossier transmis", "paused": "suspendu",
    "resumed": "repris", "stopped": "relances arrêtées", "quarantined": "mis à l'écart",
    "payment": "paiement reçu", "payment_unmatched": "paiement non rapproché", "debtor_reply": "réponse du débiteur",
    "posted": "courrier posté", "received": "avis de réception", "written_off": "passé en perte",
    "dispute": "contestation", "promise": "promesse de paiement",
}
STEPS = {
    "courtesy": "rappel avant échéance", "due": "avis d'échéance", "call": "appel", "firm": "relance",
    "formal_notice": "mise en demeure", "final_notice": "dernier avis avant transmission",
    "handoff": "transmission", "partner_submission": "transmission au partenaire",
}
CHANNELS = {"email": "courriel", "sms": "SMS", "letter": "courrier recommandé", "task": "tâche de l'équipe",
            "api": "API", "csv": "import", "bank": "relevé bancaire", "scenario": "saisie"}
KINDS = {"b2b": "entreprise", "b2c": "particulier (consommateur)", "public": "acheteur public"}


def _eur(value: str | Decimal | None) -> str:
    return formatting.eur(Decimal(str(value or "0")), "fr")


def _date(value: Any) -> str:
    """An ISO date (or datetime) as ``26/05/2026``; anything else unchanged."""
    text = str(value or "")
    try:
        return formatting.date_short(dt.date.fromisoformat(text[:10]))
    except ValueError:
        return text


def _long_date(value: Any) -> str:
    text = str(value or "")
    try:
        return formatting.date_long(dt.date.fromisoformat(text[:10]), "fr")
    except ValueError:
        return text


_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), text) for pattern, text in (
    (r"^dispute: (.*)$", "contestation : {0}"),
    (r"^dispute resolved$", "contestation levée"),
    (r"^promise to pay by (\d{4}-\d{2}-\d{2})$", "promesse de paiement au {date0}"),
    (r"^payment plan of (\d+) instalments$", "échéancier en {0} versements"),
    (r"^handed off to (.*) \(case (.*)\)$", "transmis à {0} (dossier {1})"),
    (r"^rejected by the approver: (.*)$", "transmission refusée ; motif : « {0} »"),
    (r"^rejected by the approver$", "transmission refusée"),
    (r"^approval expired.*$", "délai de validation expiré sans réponse"),
    (r"^not approved$", "transmission non approuvée"),
    (r"^paid$", "payée"),
))


def french_reason(reason: str) -> str:
    """The reason codes the machine records (English), in French for the commissaire de justice."""
    for pattern, text in _REASONS:
        found = pattern.match(reason.strip())
        if found:
            groups = found.groups()
            return text.format(*groups, date0=_date(groups[0]) if groups else "")
    return reason


def event_name(kind: str) -> str:
    return EVENTS.get(kind, kind.replace("_", " "))


class _Pdf(UnicodePDF):
    case_id = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, pdf_text(f"Dossier {self.case_id} – page {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0, 0, 0)


def _table(pdf: UnicodePDF, widths: Sequence[float], head: Sequence[str], rows: Sequence[Sequence[str]],
           aligns: str) -> None:
    """A table whose cells wrap on several lines (never cut); a row that does not fit goes to the next page
    with the header repeated. ``widths`` sum to at most the A4 portrait content width."""
    assert sum(widths) <= WIDTH + 1e-6

    def draw(cells: Sequence[str], style: str, fill: bool, align_of: str) -> None:
        laid = [_wrap([(style, pdf_text(text))], SIZE, width - 2 * pdf.c_margin, pdf.k, plain_spaces=True)
                for width, text in zip(widths, cells, strict=True)]
        height = max(1, *(len(lines) for lines in laid)) * CELL_LINE + 1.2
        if pdf.will_page_break(height):
            pdf.add_page()
            if not fill:
                draw(head, "B", True, "C" * len(head))
        x, y = MARGIN, pdf.get_y()
        pdf.set_font(FAMILY, style, SIZE)
        for width, lines, align in zip(widths, laid, align_of, strict=True):
            pdf.rect(x, y, width, height, style="DF" if fill else "D")
            for index, line in enumerate(lines):
                text = "".join(chunk[1] for chunk in line.chunks)
                pdf.set_xy(x, y + 0.6 + index * CELL_LINE)
                pdf.cell(width, CELL_LINE, text, align=align)
            x += width
        pdf.set_xy(MARGIN, y + height)

    pdf.set_draw_color(150, 150, 150)
    pdf.set_fill_color(230, 230, 230)
    draw(head, "B", True, "C" * len(head))
    for row in rows:
        draw(row, "", False, aligns)
    pdf.ln(2)


def draw_case_pdf(case_file: Mapping[str, Any]) -> bytes:
    """The case file as a few A4 portrait pages."""
    pdf = _Pdf(format="A4")
    pdf.case_id = str(case_file["case_id"])
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(MARGIN, 15, MARGIN)
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font(FAMILY, "B", 11)
        pdf.cell(WIDTH, 7, pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    def line(text: str, bold: bool = False) -> None:
        pdf.set_font(FAMILY, "B" if bold else "", 9)
        lines = _wrap([("B" if bold else "", pdf_text(text))], 9, WIDTH - 2 * pdf.c_margin, pdf.k,
                      plain_spaces=True)
        for laid in lines:
            pdf.cell(WIDTH, 4.6, "".join(chunk[1] for chunk in laid.chunks), new_x="LMARGIN", new_y="NEXT")

    creditor, debtor, totals, route = (case_file["creditor"], case_file["debtor"], case_file["totals"],
                                       case_file["route"])
    built_on = _long_date(case_file["built_on"])
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(WIDTH, 9, "Dossier de recouvrement", new_x="LMARGIN", new_y="NEXT")
    line(f"Référence {case_file['case_id']} – établi le {built_on}")
    heading("Créancier")
    identity = [str(creditor.get("name") or "")]
    if creditor.get("legal_form") or creditor.get("share_capital"):
        identity.append(" au capital de ".join(
            v for v in (str(creditor.get("legal_form") or ""), str(creditor.get("share_capital") or "")) if v))
    if creditor.get("rcs_city"):
        identity.append(f"RCS {creditor['rcs_city']} {creditor.get('siren')}")
    else:
        identity.append(f"SIREN {creditor.get('siren')}")
    line(", ".join(v for v in identity if v))
    line(" – ".join(str(v) for v in (creditor.get("address"), creditor.get("email")) if v))
    heading("Débiteur")
    line(f"{debtor['name']} ({KINDS.get(debtor['kind'], debtor['kind'])})"
         + (f", SIREN {debtor['siren']}" if debtor.get("siren") else ""))
    line(", ".join(str(v) for v in (debtor.get("address"), debtor.get("email"), debtor.get("phone")) if v)
         or "coordonnées non renseignées")
    heading("Factures")
    _table(pdf, (24, 17, 17, 20, 18, 20, 11, 18, 16, 19),
           ("Facture", "Émise le", "Échéance", "Montant TTC", "Payé", "Solde", "Jours de retard", "Pénalités",
            "Indemnité", "Prescription"),
           [(i["id"], _date(i["issued"]), _date(i["due"]), _eur(i["amount"]), _eur(i["paid"]), _eur(i["balance"]),
             str(i["days_late"]), _eur(i["penalties"]), _eur(i["indemnity"]), _date(i["limitation_date"]))
            for i in case_file["invoices"]], "LCCRRRCRRC")
    line(f"Principal restant dû {_eur(totals['balance'])} ; pénalités ou intérêts {_eur(totals['penalties'])} ; "
         f"indemnités forfaitaires {_eur(totals['indemnity'])} ; total de la créance {_eur(totals['claimed'])} "
         f"(arrêté au {built_on}).", bold=True)
    if debtor["kind"] == "b2c":
        line("Débiteur consommateur : aucuns frais de recouvrement à sa charge (CPCE L111-8) ; "
             "les courriers d'une société de recouvrement portent les mentions de l'art. R124-4 CPCE.")
    heading("Voie proposée")
    line(f"{route.get('partner_name') or route.get('partner')} – {route.get('reason')}")
    if case_file.get("limitation_date"):
        line(f"Première date de prescription : {_long_date(case_file.get('limitation_date'))}")
    for warning in case_file.get("warnings", []):
        line(f"Attention : {warning}", bold=True)
    heading("Historique des démarches")
    _table(pdf, (17, 22, 30, 30, 22, 59), ("Date", "Facture", "Événement", "Étape", "Canal", "Preuve / référence"),
           [(_date(h["date"]), h["invoice"], event_name(h["kind"]), STEPS.get(h.get("step", ""), h.get("step", "")),
             CHANNELS.get(h.get("channel", ""), h.get("channel", "")), _proof(h))
            for h in case_file["history"]] or [("", "", "aucune démarche", "", "", "")], "LLLLLL")
    if case_file.get("disputes") or case_file.get("promises"):
        heading("Litiges et promesses")
        for entry in [*case_file.get("disputes", []), *case_file.get("promises", [])]:
            line(f"{_date(entry['date'])} – facture {entry['invoice']} – {event_name(entry['kind'])} : "
                 f"{french_reason(entry.get('reason', ''))}")
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()


def _proof(entry: Mapping[str, str]) -> str:
    """The full references of an event (message id, letter key, amount, reason), none cut."""
    parts = []
    if entry.get("message_id"):
        parts.append(f"message {entry['message_id']}")
    if entry.get("key"):
        parts.append(f"pièce {entry['key']}")
    if entry.get("to"):
        parts.append(f"à {entry['to']}")
    if entry.get("amount"):
        try:
            parts.append(_eur(entry["amount"]))
        except ArithmeticError:
            parts.append(entry["amount"])
    if entry.get("reason"):
        parts.append(french_reason(entry["reason"]))
    return " ; ".join(parts)
