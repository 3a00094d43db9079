"""Rendering: jinja2 templates -> subject, text, HTML, SMS, task and PDF letter for one message.

``render(template, channels, ctx)`` renders what the channels need:

- ``email``: subject + text + HTML, plus the PDF when ``T.letter.j2`` exists (attached as the "avis");
- ``letter``: subject + PDF;
- ``sms``: the SMS body (one line, GSM-7 characters);
- ``task``: the task text for the team (+ ``task_subject``, its first line; ``subject`` too when no
  email or letter is rendered).

Templates are looked up in ``<templates_dir>/<language>/`` and fall back to ``fr/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from relance.errors import RelanceError
from relance.rendering import formatting
from relance.rendering.context import CompanyInfo, ContactEntry, InvoiceLine, MessageContext
from relance.rendering.environment import Templates, templates

PRE_DUE_STEPS = ("courtesy", "due")
"""The courtesy note before the due date and the due-day notice: not reminders of an unpaid invoice."""

__all__ = [
    "CHANNELS",
    "CompanyInfo",
    "ContactEntry",
    "InvoiceLine",
    "MessageContext",
    "Rendered",
    "render",
    "render_pdf",
    "template_variables",
]

CHANNELS = ("email", "sms", "letter", "task")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered message; a part is None when no requested channel needs it."""

    subject: str
    text: str | None
    html: str | None
    sms: str | None
    task: str | None
    pdf: bytes | None
    task_subject: str | None = None


def template_variables(ctx: MessageContext) -> dict[str, Any]:
    """The names a template sees: the context's fields, its totals and ``ctx`` itself."""
    return {
        "ctx": ctx,
        "company": ctx.company,
        "customer_name": ctx.customer_name,
        "customer_kind": ctx.customer_kind,
        "kind": ctx.customer_kind,
        "consumer": ctx.consumer,
        "customer_address": ctx.customer_address,
        "customer_siren": ctx.customer_siren if ctx.customer_kind != "b2c" else None,
        "language": ctx.language,
        "step": ctx.step,
        "letter_date": ctx.letter_date,
        "invoices": ctx.invoices,
        "count": len(ctx.invoices),
        "reference": ctx.reference,
        "deadline": ctx.deadline,
        "history": ctx.history,
        "extra": ctx.extra,
        "total_amount": ctx.total_amount,
        "total_paid": ctx.total_paid,
        "total_balance": ctx.total_balance,
        "total_penalties": ctx.total_penalties,
        "total_indemnity": ctx.total_indemnity,
        "total_claimed": ctx.total_claimed,
        "amount_asked": ctx.amount_asked,
        "salutation": ctx.salutation(),
        "vocative": ctx.vocative() if ctx.language == "fr" else "",
        "sign_off": "Yours sincerely," if ctx.person_named else "Yours faithfully,",
        "reminders": tuple(h for h in ctx.history if h.step not in PRE_DUE_STEPS),
        "penalty_tables": ctx.penalty_tables,     # law/table.py: rows that multiply out, payments imputed
        "rates_missing": ctx.rates_missing,       # a rate is missing: interest in words, no figure
        "max_days_late": ctx.max_days_late,
        "numbers": ctx.numbers,
        "earliest_due": min(i.due for i in ctx.invoices),
        "respond_by": ctx.deadline or ctx.letter_date + dt.timedelta(days=8),
    }


def _require(tpl: Templates, ctx: MessageContext, template: str, part: str) -> str:
    name = tpl.resolve(ctx.language, template, part)
    if name is None:
        raise RelanceError(f"template {template!r} has no {part} part",
                           str(tpl.root / ctx.language / f"{template}.{part}.j2"))
    return name


def _pdf(tpl: Templates, name: str, ctx: MessageContext, variables: dict[str, Any]) -> bytes:
    markup = tpl.render(name, variables)
    # fpdf2 and segno cost ~250 ms to import: only the functions that draw a letter pay for them.
    from relance.rendering.pdf import write_letter
    from relance.rendering.qrcode import epc_fields

    return write_letter(markup, ctx, epc_fields(ctx), where=str(tpl.root / name))


def render(template: str, channels: Sequence[str], ctx: MessageContext) -> Rendered:
    """Render ``template`` for ``ctx`` in every part the ``channels`` need."""
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise RelanceError(f"unknown channel(s) {', '.join(unknown)}; expected one of {', '.join(CHANNELS)}",
                           f"template {template}")
    tpl = templates()
    variables = template_variables(ctx)
    subject: str | None = None
    text = html = sms = task = task_subject = None
    pdf: bytes | None = None
    if "email" in channels or "letter" in channels:
        subject = formatting.one_line(tpl.render(_require(tpl, ctx, template, "subject"), variables))
    if "email" in channels:
        text = tpl.render(_require(tpl, ctx, template, "txt"), variables).strip() + "\n"
        html = tpl.render(_require(tpl, ctx, template, "html"), variables)
        letter = tpl.resolve(ctx.language, template, "letter")
        if letter is not None:
            pdf = _pdf(tpl, letter, ctx, variables)
    if "letter" in channels and pdf is None:
        pdf = _pdf(tpl, _require(tpl, ctx, template, "letter"), ctx, variables)
    if "sms" in channels:
        sms = formatting.sms_text(tpl.render(_require(tpl, ctx, template, "sms"), variables))
    if "task" in channels:
        task = tpl.render(_require(tpl, ctx, template, "task"), variables).strip() + "\n"
        task_subject = formatting.one_line(task.lstrip().splitlines()[0] if task.strip() else template)
    if subject is None:
        name = tpl.resolve(ctx.language, template, "subject")
        if name is not None:
            subject = formatting.one_line(tpl.render(name, variables))
        else:
            subject = task_subject or formatting.one_line((sms or template)[:80])
    return Rendered(subject=subject, text=text, html=html, sms=sms, task=task, pdf=pdf,
                    task_subject=task_subject)


def render_pdf(template: str, ctx: MessageContext) -> bytes:
    """The PDF letter of ``template`` (``T.letter.j2``) for ``ctx``."""
    tpl = templates()
    return _pdf(tpl, _require(tpl, ctx, template, "letter"), ctx, template_variables(ctx))
