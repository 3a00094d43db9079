"""The approval page (HTML, French): the case and two buttons; and the short answer pages.

Rendered with jinja2 autoescaping. The page never shows an exception text nor the task token; the form
POSTs to the same URL with the link's ``sig`` in a hidden field (the capability that makes it CSRF-safe).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jinja2
from markupsafe import Markup

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
_ENV.filters["eur"] = lambda v: f"{Decimal(str(v)):,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"

_LAYOUT = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">
<title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%;font-size:14px;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 6px}
th{background:#f0f0f0}td.n{text-align:right}.warn{color:#a00}button{font-size:16px;padding:10px 18px;margin-right:1em}
.approve{background:#0b5cad;color:#fff;border:0}
.code{font-family:monospace;font-size:18px;letter-spacing:2px;background:#f0f0f0;padding:1px 6px}
#confirm{font-family:monospace;font-size:18px;letter-spacing:2px;text-transform:uppercase}
.reject{background:#fff;border:1px solid #a00;color:#a00}</style>
</head><body>{{ body }}</body></html>"""

_CASE = """<h1>Transmission du dossier {{ case_id }}</h1>
<p>Relance vous demande votre accord avant de transmettre ce dossier. Rien n'est décidé tant que vous
n'avez pas cliqué sur un bouton.</p>
<h2>Débiteur</h2>
<p><strong>{{ debtor.name }}</strong> ({{ kinds.get(debtor.kind, debtor.kind) }}){% if debtor.siren %}, SIREN
{{ debtor.siren }}{% endif %}{% if debtor.address %}<br>{{ debtor.address }}{% endif %}</p>
<h2>Factures</h2>
<table><tr><th>Facture</th><th>Échéance</th><th>Montant TTC</th><th>Solde</th><th>Jours de retard</th>
<th>Pénalités</th><th>Indemnité</th><th>Prescription</th></tr>
{% for i in invoices %}<tr><td>{{ i.id }}</td><td>{{ i.due }}</td><td class="n">{{ i.amount|eur }}</td>
<td class="n">{{ i.balance|eur }}</td><td class="n">{{ i.days_late }}</td><td class="n">{{ i.penalties|eur }}</td>
<td class="n">{{ i.indemnity|eur }}</td><td>{{ i.limitation_date }}</td></tr>{% endfor %}
<tr><th colspan="3">Total de la créance</th><td class="n">{{ totals.balance|eur }}</td><td></td>
<td class="n">{{ totals.penalties|eur }}</td><td class="n">{{ totals.indemnity|eur }}</td>
<td class="n"><strong>{{ totals.claimed|eur }}</strong></td></tr></table>
<h2>Transmission proposée</h2>
<p><strong>{{ route.partner_name or route.partner }}</strong> — {{ route.reason }}</p>
{% for w in warnings %}<p class="warn">Attention : {{ w }}</p>{% endfor %}
<h2>Historique</h2>
<table><tr><th>Date</th><th>Facture</th><th>Événement</th><th>Étape</th><th>Canal</th></tr>
{% for h in history %}<tr><td>{{ h.date }}</td><td>{{ h.invoice }}</td><td>{{ h.kind }}</td>
<td>{{ h.get("step", "") }}</td><td>{{ h.get("channel", "") }}</td></tr>
{% else %}<tr><td colspan="5">Aucun contact enregistré</td></tr>{% endfor %}</table>
<form method="post" action="">
<input type="hidden" name="sig" value="{{ sig }}">
<input type="hidden" name="form" value="{{ form_token }}">
{% if error %}<p class="warn" role="alert">{{ error }}</p>{% endif %}
<p><label for="confirm">Pour confirmer votre décision, recopiez le code
<strong class="code">{{ code }}</strong></label><br>
<input id="confirm" name="confirm" type="text" required autocomplete="off" inputmode="text" maxlength="8"
 size="6" pattern="[A-Za-z0-9 ]{4,8}" aria-describedby="confirm-help">
<small id="confirm-help">(protection contre les robots des messageries, qui ouvrent les liens et
soumettent les formulaires)</small></p>
<p><label for="reason">Motif (facultatif, en cas de refus)</label><br>
<textarea id="reason" name="reason" rows="2" cols="60" maxlength="500"></textarea></p>
<button class="approve" type="submit" name="decision" value="approve">Approuver la transmission</button>
<button class="reject" type="submit" name="decision" value="reject">Refuser</button>
</form>
<p><small>Le lien est valable jusqu'au {{ expires }} et ne sert qu'une fois.</small></p>"""

MESSAGES: dict[int | str, tuple[str, str]] = {
    403: ("Lien invalide", "Ce lien n'est pas valide. Utilisez le lien reçu par courriel, sans le modifier."),
    404: ("Demande introuvable", "Cette demande d'accord n'existe pas."),
    410: ("Lien expiré ou déjà utilisé",
          "Ce lien a expiré ou a déjà servi : la décision a été prise ou le délai est passé. "
          "Rien de plus n'est nécessaire ; l'équipe est informée."),
    400: ("Demande incomplète", "Choisissez « Approuver » ou « Refuser »."),
    "stale": ("Page à rouvrir", "Cette page n'est plus valable. Rouvrez le lien reçu par courriel, "
                                "recopiez le code affiché puis choisissez."),
    405: ("Méthode non permise", "Cette page ne s'ouvre qu'avec le lien reçu par courriel."),
    500: ("Erreur", "La décision n'a pas pu être enregistrée. Réessayez dans quelques minutes."),
    "approve": ("Transmission approuvée", "Merci : le dossier va être transmis au partenaire."),
    "reject": ("Transmission refusée", "Merci : le dossier ne sera pas transmis ; l'équipe en est informée."),
}
KINDS = {"b2b": "entreprise", "b2c": "particulier (consommateur)", "public": "acheteur public"}


def _layout(title: str, body: str) -> str:
    return _ENV.from_string(_LAYOUT).render(title=title, body=Markup(body))


def message_page(key: int | str) -> str:
    """A short page for an outcome (403, 404, 410, approve, reject...)."""
    title, text = MESSAGES.get(key, MESSAGES[500])
    body = _ENV.from_string("<h1>{{ t }}</h1><p>{{ x }}</p>").render(t=title, x=text)
    return _layout(title, body)


def case_page(case_item: Mapping[str, Any], sig: str, expires: str, form_token: str = "", code: str = "",
              error: str = "") -> str:
    """The case (debtor, invoices, amounts, history, route) and the decision form.

    ``form_token`` is the one-time value of this GET; ``code`` what the approver must type (issue 14.4).
    """
    summary: dict[str, Any] = json.loads(case_item.get("summary") or "{}")
    body = _ENV.from_string(_CASE).render(
        case_id=case_item["case_id"], debtor=summary.get("debtor", {}), invoices=summary.get("invoices", []),
        totals=summary.get("totals", {}), route=summary.get("route", {}), warnings=summary.get("warnings", []),
        history=summary.get("history", []), kinds=KINDS, sig=sig, expires=expires, form_token=form_token,
        code=code, error=error)
    return _layout(f"Dossier {case_item['case_id']}", body)
