"""Words of the reports (season report, weekly digest) in the creditor's language: French by default."""

from __future__ import annotations

# The report speaks the creditor's language: French by default, English on request (``lang="en"``).
FR: dict[str, str] = {
    "not due": "non échu", "Invoices": "Factures", "Invoiced": "Facturé", "Recovered": "Encaissé",
    "Written off": "Passé en perte", "Outstanding": "Encours", "To decide": "À décider",
    "Messages sent": "Messages envoyés", "Cases handed off": "Dossiers transmis", "DSO": "DSO",
    "days": "jours", "Season report": "Bilan de la saison", "Season": "Saison",
    "Outstanding balance": "Encours sur la saison", "Messages by step and channel": "Messages par étape et canal",
    "Step": "Étape", "Channel": "Canal", "Messages": "Messages", "Recovery by step": "Encaissements par étape",
    "Invoices reminded": "Factures relancées", "Recovered within": "Payées sous", "Customers": "Clients",
    "Scenario events refused": "Événements du scénario refusés", "Aging on": "Balance âgée au",
    "Days past due": "Jours de retard", "Owed": "Reste dû", "Total": "Total", "No data.": "Aucune donnée.",
    "owes": "doit", "invoice": "facture", "invoices": "factures", "payment": "paiement", "by": "par",
    "message": "message", "email": "courriel", "sms": "SMS", "letter": "courrier", "task": "tâche",
    "sent": "envoyé", "approval_requested": "accord demandé", "approved": "accord donné", "rejected": "refusé",
    "approval_expired": "accord expiré", "handed_off": "transmis", "paused": "en pause", "resumed": "repris",
    "stopped": "arrêté", "quarantined": "écarté", "flagged": "à vérifier", "dispute": "litige",
    "promise": "promesse", "via": "via", "bank": "banque", "scenario": "scénario", "api": "API", "csv": "CSV",
    "payment_unmatched": "virement à rapprocher", "debtor_reply": "réponse du client",
    "credit_note": "A payment is credited to the last step sent on that invoice in the {n} days before it.",
    "dso_note": "DSO = outstanding on {end} ÷ invoiced (the cards above) × {days} days of the season.",
}
FR_TEXT = {
    "credit_note": "Un paiement est attribué à la dernière étape envoyée pour la facture dans les {n} jours "
                   "qui le précèdent.",
    "dso_note": "DSO = encours au {end} ÷ facturé (les chiffres ci-dessus) × {days} jours de la saison.",
}
# The steps of the shipped policies, as a creditor names them (a step of another policy keeps its id).
STEP_NAMES = {
    "fr": {"courtesy": "Rappel avant échéance", "due": "Rappel à l'échéance", "call": "Appel",
           "firm": "Relance ferme", "formal_notice": "Mise en demeure", "final_notice": "Dernier avis",
           "handoff": "Transmission", "second_call": "Second appel", "approval_request": "Demande d'accord",
           "approval_reminder": "Rappel d'accord", "partner_submission": "Envoi au partenaire",
           "flagged_claim": "Envoi à vérifier", "escalation_declined": "À décider",
           "escalation_suspended": "Transmission suspendue", "letters_to_post": "Lettres à poster",
           "penalty_statement": "Décompte des pénalités", "debtor_reply": "Réponse du client",
           "bank_unmatched": "Virement à rapprocher"},
    "en": {"courtesy": "Courtesy reminder", "due": "Due-date reminder", "call": "Call", "firm": "Firm reminder",
           "formal_notice": "Formal notice", "final_notice": "Final notice", "handoff": "Hand-off",
           "second_call": "Second call", "approval_request": "Approval request",
           "approval_reminder": "Approval reminder", "partner_submission": "Sent to the partner",
           "flagged_claim": "Claim to check", "escalation_declined": "To decide",
           "escalation_suspended": "Hand-off suspended", "letters_to_post": "Letters to post",
           "penalty_statement": "Penalty statement", "debtor_reply": "Customer answer",
           "bank_unmatched": "Transfer to match"},
}


def t(text: str, lang: str = "fr") -> str:
    """``text`` in the report's language."""
    if lang == "fr":
        return FR_TEXT.get(text) or FR.get(text, text)
    return FR.get(text, text) if text in ("credit_note", "dso_note") else text


def step_name(step: str, lang: str = "fr") -> str:
    return STEP_NAMES.get(lang, {}).get(step, step.replace("_", " "))
