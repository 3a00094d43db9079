"""The debtor's page (HTML, French or English): what is owed, how to pay, and one form to answer.

Rendered with jinja2 autoescaping, small enough for a phone (one column, large touch targets). The form
POSTs to the same URL with the link's ``sig`` in a hidden field; the page never shows an exception text.
Pages for a refused link are bilingual and carry no data at all (the customer is not known then).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from relance.rendering import formatting
from relance.rendering.context import MessageContext

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)

_LAYOUT = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">
<title>{{ title }}</title>
<style>
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#f3f5f7;color:#1f2328;font-size:16px;line-height:1.45}
main{max-width:640px;margin:0 auto;background:#fff;padding:16px 16px 32px}
h1{font-size:1.35em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:1.4em 0 .5em}
.inv{border:1px solid #d5dbe1;border-radius:8px;padding:10px 12px;margin:8px 0;display:flex;gap:10px;
align-items:flex-start}.inv label{flex:1}.inv .amt{font-weight:600;white-space:nowrap}
.inv small,.muted{color:#656d76}.total{display:flex;justify-content:space-between;font-weight:700;
padding:8px 12px;background:#eef1f4;border-radius:8px}
.pay{border:1px solid #c9d1d9;background:#f8fafb;border-radius:8px;padding:12px;overflow-wrap:anywhere}
.pay code{font-size:.95em}.qr{text-align:center;margin-top:10px}.qr img{width:180px;height:180px}
fieldset{border:1px solid #d5dbe1;border-radius:8px;margin:14px 0;padding:10px 12px 14px}
legend{font-weight:700;padding:0 6px}label.f{display:block;margin:8px 0 4px}
input[type=date],input[type=text],textarea{width:100%;font-size:16px;padding:10px;border:1px solid #8a96a3;
border-radius:6px}input[type=checkbox]{width:22px;height:22px;margin-top:2px}
button{width:100%;font-size:17px;padding:13px;margin-top:12px;border-radius:8px;border:0;
background:#0b5cad;color:#fff}button.alt{background:#fff;color:#0b5cad;border:1px solid #0b5cad}
.note{background:#fff8e1;border:1px solid #e3c867;border-radius:8px;padding:10px 12px}
footer{font-size:.85em;color:#656d76;margin-top:24px}
</style></head><body><main>{{ body }}</main></body></html>"""

_PAGE = """<h1>{{ t.title }}</h1>
<p>{{ t.hello }} <strong>{{ customer }}</strong>,<br>{{ t.intro }}</p>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}
<form method="post" action="">
<input type="hidden" name="sig" value="{{ sig }}">
<h2>{{ t.owed }}</h2>
{% for i in invoices %}<div class="inv"><input type="checkbox" id="i{{ loop.index }}" name="invoice"
 value="{{ i.number }}" checked><label for="i{{ loop.index }}">{{ t.invoice }} {{ i.number }}<br>
<small>{{ t.due }} {{ i.due }}{% if i.paid %} · {{ t.paid_already }} {{ i.paid }}{% endif %}</small>
{% if i.pdf %}<br><a href="{{ i.pdf }}">{{ t.pdf }}</a>{% endif %}</label>
<span class="amt">{{ i.balance }}</span></div>{% endfor %}
<div class="total"><span>{{ t.total }}</span><span>{{ total }}</span></div>
<h2>{{ t.how }}</h2>
<div class="pay">{{ t.holder }}{{ t.colon }} {{ company.name }}<br>IBAN{{ t.colon }} <code>{{ iban }}</code><br>
{% if company.bic %}BIC{{ t.colon }} <code>{{ company.bic }}</code><br>{% endif %}{{ t.ref }}{{ t.colon }}
<strong>{{ reference }}</strong>
{% if qr %}<div class="qr"><img alt="{{ t.qr_alt }}" src="{{ qr }}"><br><small>{{ t.qr }}</small></div>{% endif %}
</div>
<h2>{{ t.answer }}</h2>
<p class="muted">{{ t.answer_help }}</p>
<fieldset><legend>{{ t.paid_legend }}</legend>
<label class="f" for="paid_on">{{ t.paid_on }}</label>
<input type="date" id="paid_on" name="paid_on" value="{{ today }}" max="{{ today }}">
<label class="f" for="reference">{{ t.reference }}</label>
<input type="text" id="reference" name="reference" maxlength="140" autocomplete="off">
<button type="submit" name="answer" value="paid">{{ t.paid_button }}</button></fieldset>
<fieldset><legend>{{ t.promise_legend }}</legend>
<label class="f" for="until">{{ t.until }}</label>
<input type="date" id="until" name="until" min="{{ tomorrow }}">
<p class="muted">{{ t.promise_help }}</p>
<button type="submit" name="answer" value="promise">{{ t.promise_button }}</button></fieldset>
<fieldset><legend>{{ t.dispute_legend }}</legend>
<label class="f" for="reason">{{ t.reason }}</label>
<textarea id="reason" name="reason" rows="3" maxlength="1000"></textarea>
<button class="alt" type="submit" name="answer" value="dispute">{{ t.dispute_button }}</button></fieldset>
</form>
<footer>{{ company.name }} · {{ company.reply_to }}<br>{{ t.valid }} {{ expires }}.</footer>"""

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Vos factures en attente de règlement", "hello": "Bonjour", "colon": "\u00a0:",
        "intro": "voici ce qui reste à régler à ce jour. Vous pouvez payer par virement ou nous répondre "
                 "en un clic ci-dessous.",
        "owed": "Ce qui reste dû", "invoice": "Facture", "due": "échéance le", "paid_already": "déjà réglé",
        "pdf": "Voir la facture (PDF)", "total": "Total restant dû", "how": "Régler par virement",
        "holder": "Titulaire", "ref": "Référence à indiquer", "qr": "Scannez avec l'application de votre banque.",
        "qr_alt": "QR code de virement SEPA",
        "answer": "Répondre", "answer_help": "Votre réponse vaut pour les factures cochées ci-dessus.",
        "paid_legend": "J'ai déjà payé", "paid_on": "Date du paiement",
        "reference": "Référence du virement (facultatif)", "paid_button": "J'ai déjà payé",
        "promise_legend": "Je paierai le …", "until": "Date à laquelle vous réglerez",
        "promise_help": "Pour une date allant jusqu'au {limit}, nous suspendons nos relances jusque-là. "
                        "Au-delà, notre équipe étudie votre demande et vous répond.",
        "promise_button": "Je paierai à cette date",
        "dispute_legend": "Je conteste", "reason": "Ce qui ne va pas (facture, montant, livraison…)",
        "dispute_button": "Je conteste ces factures",
        "valid": "Ce lien personnel est valable jusqu'au",
        "note_paused": "Relances suspendues jusqu'au {until} pour {invoice}.",
        "note_disputed": "Votre contestation de la facture {invoice} est en cours d'examen.",
        "nothing": "Vous ne nous devez plus rien à ce jour. Merci\u00a0!",
    },
    "en": {
        "title": "Your invoices awaiting payment", "hello": "Hello", "colon": ":",
        "intro": "here is what remains to be paid today. You can pay by bank transfer or answer us in one "
                 "click below.",
        "owed": "What remains due", "invoice": "Invoice", "due": "due on", "paid_already": "already paid",
        "pdf": "View the invoice (PDF)", "total": "Total still due", "how": "Pay by bank transfer",
        "holder": "Account holder", "ref": "Reference to quote", "qr": "Scan it with your banking app.",
        "qr_alt": "SEPA transfer QR code",
        "answer": "Answer", "answer_help": "Your answer applies to the invoices ticked above.",
        "paid_legend": "I have already paid", "paid_on": "Date of payment",
        "reference": "Transfer reference (optional)", "paid_button": "I have already paid",
        "promise_legend": "I will pay on …", "until": "Date you will pay",
        "promise_help": "For a date up to {limit}, we hold our reminders until then. Beyond it, our "
                        "team looks at your request and gets back to you.",
        "promise_button": "I will pay on this date",
        "dispute_legend": "I dispute", "reason": "What is wrong (invoice, amount, delivery…)",
        "dispute_button": "I dispute these invoices",
        "valid": "This personal link is valid until",
        "note_paused": "Reminders on hold until {until} for {invoice}.",
        "note_disputed": "Your dispute of invoice {invoice} is being looked into.",
        "nothing": "You owe us nothing at this date. Thank you!",
    },
}

# Outcome pages. Refusals (no customer known) are bilingual and say nothing about any customer.
OUTCOMES: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {
        "paid": ("Merci, c'est noté", "Nous suspendons nos relances jusqu'au {until}, le temps que votre "
                 "paiement nous parvienne. Sans paiement reçu d'ici là, elles reprendront."),
        "dispute": ("Votre contestation est enregistrée", "Nous suspendons nos relances sur ces factures et "
                    "notre équipe revient vers vous rapidement."),
        "promise": ("Merci, c'est noté", "Nous ne vous relancerons pas avant le {until}."),
        "request": ("Votre demande est transmise", "Le {until} est au-delà du délai que nous pouvons "
                    "accorder en ligne\u00a0: notre équipe étudie votre demande et vous répond. D'ici là, les "
                    "relances prévues peuvent continuer."),
        "again": ("Déjà enregistré", "Nous avions déjà reçu cette réponse\u00a0: rien de plus n'est nécessaire."),
        "bad": ("Réponse incomplète", "{why} Revenez en arrière pour corriger."),
        "limit": ("Trop de réponses aujourd'hui", "Ce lien a reçu trop de réponses aujourd'hui. Réessayez "
                  "demain ou écrivez-nous à {contact}."),
    },
    "en": {
        "paid": ("Thank you, noted", "We hold our reminders until {until} while your payment reaches us. "
                 "If no payment has arrived by then, they will resume."),
        "dispute": ("Your dispute is recorded", "We hold our reminders on these invoices and our team will "
                    "get back to you shortly."),
        "promise": ("Thank you, noted", "We will not remind you before {until}."),
        "request": ("Your request has been passed on", "{until} is beyond the time we can grant online: our "
                    "team will look at your request and reply. Until then, scheduled reminders may go on."),
        "again": ("Already recorded", "We had already received this answer: nothing more is needed."),
        "bad": ("Incomplete answer", "{why} Go back to correct it."),
        "limit": ("Too many answers today", "This link has received too many answers today. Try again "
                  "tomorrow or write to us at {contact}."),
    },
}
REFUSED: dict[int, tuple[str, str]] = {
    403: ("Lien invalide ou expiré · Invalid or expired link",
          "Ce lien n'est pas valide ou a expiré\u00a0: utilisez le lien de notre dernier message, ou "
          "répondez-nous par courriel. · This link is not valid or has expired: use the link in our latest "
          "message, or answer us by email."),
    404: ("Introuvable · Not found", "Ce document n'est pas disponible. · This document is not available."),
    405: ("Méthode non permise · Method not allowed", "Ouvrez le lien reçu par courriel. · Open the link you "
          "received by email."),
    500: ("Erreur · Error", "Votre réponse n'a pas pu être enregistrée. Réessayez dans quelques minutes. · "
          "Your answer could not be recorded. Please try again in a few minutes."),
}


@dataclass(frozen=True)
class Line:
    number: str
    due: str
    paid: str
    balance: str
    pdf: str | None


def _layout(lang: str, title: str, body: str) -> str:
    return _ENV.from_string(_LAYOUT).render(lang=lang, title=title, body=Markup(body))


def refused_page(status: int) -> str:
    title, text = REFUSED.get(status, REFUSED[500])
    return _layout("fr", title, _ENV.from_string("<h1>{{ t }}</h1><p>{{ x }}</p>").render(t=title, x=text))


def outcome_page(lang: str, key: str, **values: str) -> str:
    title, text = OUTCOMES[lang][key]
    body = _ENV.from_string("<h1>{{ t }}</h1><p>{{ x }}</p>").render(t=title, x=text.format(**values))
    return _layout(lang, title, body)


def qr_data_uri(ctx: MessageContext) -> str | None:
    """The EPC transfer QR code of the total balance as a PNG data URI (None when none makes sense)."""
    from relance.rendering.qrcode import epc_fields, epc_png

    fields = epc_fields(ctx)
    if fields is None:
        return None
    return "data:image/png;base64," + base64.b64encode(epc_png(fields, scale=6)).decode()


def debtor_page(ctx: MessageContext, *, sig: str, today: dt.date, expires: dt.date, promise_limit: dt.date,
                pdf_links: Mapping[str, str], notes: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The page: invoices with what remains due, how to pay (IBAN, EPC QR code), and the answer form."""
    lang = ctx.language
    t = dict(TEXT[lang])
    t["promise_help"] = t["promise_help"].format(limit=formatting.date_long(promise_limit, lang))
    lines = [Line(number=i.number, due=formatting.date_short(i.due, lang),
                  paid=formatting.eur(i.paid, lang) if i.paid > 0 else "",
                  balance=formatting.eur(i.balance, lang), pdf=pdf_links.get(i.number)) for i in ctx.invoices]
    shown_notes = [t[key].format(**{k: (formatting.date_long(v, lang) if isinstance(v, dt.date) else v)
                                    for k, v in values.items()}) for key, values in notes]
    body = _ENV.from_string(_PAGE).render(
        t=t, customer=ctx.customer_name, notes=shown_notes, sig=sig, invoices=lines,
        total=formatting.eur(ctx.total_balance, lang), company=ctx.company,
        iban=formatting.iban(ctx.company.iban), reference=ctx.reference, qr=qr_data_uri(ctx),
        today=today.isoformat(), tomorrow=(today + dt.timedelta(days=1)).isoformat(),
        expires=formatting.date_long(expires, lang))
    return _layout(lang, t["title"], body)


def nothing_page(lang: str) -> str:
    title = TEXT[lang]["title"]
    return _layout(lang, title, _ENV.from_string("<h1>{{ t }}</h1><p>{{ x }}</p>").render(
        t=title, x=TEXT[lang]["nothing"]))
