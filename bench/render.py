"""Rendering throughput: emails (subject + text + HTML) and PDF letters, with realistic message contexts."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from relance.law.penalties import compute
from relance.rendering import (
    ContactEntry,
    InvoiceLine,
    MessageContext,
    formatting,
    render,
    render_pdf,
    template_variables,
)
from relance.rendering.context import CompanyInfo
from relance.rendering.environment import templates

EMAIL_STEPS = ("courtesy", "due", "call", "firm", "formal_notice", "final_notice")
LETTER_STEP = "formal_notice"
LETTER_DATE = dt.date(2026, 5, 18)

COMPANY = CompanyInfo(
    name="Menuiserie Exemple SAS", siren="123456782", address="12 rue de l'Exemple, 69003 Lyon",
    email="relances@menuiserie.example", reply_to="compta@menuiserie.example", phone="+33478000000",
    iban="FR7630006000011234567890189", bic="AGRIFRPP", team_email="equipe@menuiserie.example",
    website="https://menuiserie.example")


def _line(number: str, issued: dt.date, due: dt.date, amount: str, paid: str, kind: str) -> InvoiceLine:
    amount_d, paid_d = Decimal(amount), Decimal(paid)
    statement = compute(amount_d, due, LETTER_DATE, kind, payments=((due, paid_d),) if paid_d else ())
    balance = amount_d - paid_d
    penalties = max(statement.total - balance - statement.indemnity, Decimal(0))
    rate = statement.periods[-1].annual_rate if statement.periods else None
    return InvoiceLine(number=number, issued=issued, due=due, amount=amount_d, paid=paid_d, balance=balance,
                       days_late=(LETTER_DATE - due).days, penalties=penalties,
                       indemnity=statement.indemnity, rate=rate)


def contexts() -> list[MessageContext]:
    """Messages as dispatch builds them: one to three invoices, partial payments, a contact history."""
    out = []
    for i, step in enumerate(EMAIL_STEPS * 2):
        kind = ("b2b", "b2c", "public")[i % 3]
        n = 1 + i % 3
        lines = tuple(_line(f"F2026-{40 + i:03d}{k}", dt.date(2026, 2, 10 + k), dt.date(2026, 3, 12 + k),
                            ("1800.00", "640.50", "12400.00")[k], ("0", "200.00", "0")[k], kind)
                      for k in range(n))
        history = tuple(ContactEntry(LETTER_DATE - dt.timedelta(days=d), s, "email")
                        for d, s in ((40, "courtesy"), (33, "due"), (26, "call"), (18, "firm")))
        out.append(MessageContext(
            company=COMPANY, customer_name=f"Boulangerie Exemple {i} SARL", customer_kind=kind,
            customer_address="4 rue des Lilas, 69003 Lyon", language="en" if i % 4 == 3 else "fr",
            step=step, letter_date=LETTER_DATE, invoices=lines, reference=" ".join(x.number for x in lines),
            deadline=LETTER_DATE + dt.timedelta(days=8), history=history))
    return out


def render_email(template: str, ctx: MessageContext) -> tuple[str, str, str]:
    """Subject, text and HTML of an email, without the PDF (``render(..., ["email"])`` always adds the PDF
    when the template has a letter part, which every shipped email template has)."""
    tpl = templates()
    variables = template_variables(ctx)

    def part(name: str) -> str:
        resolved = tpl.resolve(ctx.language, template, name)
        if resolved is None:
            raise LookupError(f"template {template} has no {name} part")
        return tpl.render(resolved, variables)

    return formatting.one_line(part("subject")), part("txt").strip() + "\n", part("html")


def _rate(work: Callable[[int], Any], seconds: float, minimum: int, warm: int) -> tuple[float, int]:
    for i in range(warm):                            # warm: jinja compiles each template once
        work(i)
    done, started = 0, time.perf_counter()
    while done < minimum or time.perf_counter() - started < seconds:
        work(done)
        done += 1
    return done / (time.perf_counter() - started), done


def bench_render(seconds: float = 3.0, minimum: int = 50) -> dict[str, float]:
    """Emails/s (no PDF), emails with their PDF/s (what dispatch really renders) and PDF letters/s."""
    ctxs = contexts()
    emails = [(c.step, c) for c in ctxs]
    email_rate, n_email = _rate(lambda i: render_email(*emails[i % len(emails)]), seconds, minimum,
                                len(emails))
    full_rate, n_full = _rate(lambda i: render(emails[i % len(emails)][0], ("email",), emails[i % len(emails)][1]),
                              seconds, max(10, minimum // 5), len(emails))
    letter_ctxs = [c for c in ctxs if c.step == LETTER_STEP]
    sizes: list[int] = []

    def letter(i: int) -> None:
        sizes.append(len(render_pdf(LETTER_STEP, letter_ctxs[i % len(letter_ctxs)])))

    letter_rate, n_letter = _rate(letter, seconds, max(10, minimum // 5), len(letter_ctxs))
    sizes.clear()
    letter(0)
    return {"emails_per_s": email_rate, "emails_rendered": n_email, "emails_with_pdf_per_s": full_rate,
            "emails_with_pdf_rendered": n_full, "letters_per_s": letter_rate, "letters_rendered": n_letter,
            "letter_pdf_bytes_mean": sum(sizes) / len(sizes)}
