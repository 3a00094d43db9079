"""Every template, for every step, customer kind, language and 1 or 3 invoices: the key facts appear."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pypdf
import pytest

from relance.law.penalties import compute
from relance.law.table import penalty_table
from relance.paths import templates_dir
from relance.rendering import (
    CompanyInfo,
    ContactEntry,
    InvoiceLine,
    MessageContext,
    Rendered,
    formatting,
    render,
)

COMPANY = CompanyInfo(
    name="Menuiserie Exemple SAS", siren="123456789", address="12 rue des Artisans, 69003 Lyon",
    email="relances@exemple.example", reply_to="compta@exemple.example", phone="04 78 00 00 00",
    iban="FR76 3000 6000 0112 3456 7890 189", bic="AGRIFRPPXXX", team_email="equipe@exemple.example",
    website="https://exemple.example",
)

# step -> channels, as in policies/standard.yaml and the escalation state machine
STEPS: dict[str, list[str]] = {
    "courtesy": ["email"], "due": ["email"], "call": ["email", "task"], "firm": ["email", "sms"],
    "formal_notice": ["letter", "email"], "final_notice": ["email"],
    "approval_request": ["email"], "approval_reminder": ["email", "task"], "partner_submission": ["email"],
    "escalation_declined": ["task"], "handoff": ["task"], "flagged_claim": ["task"],
}
CUSTOMER_STEPS = ("courtesy", "due", "call", "firm", "formal_notice", "final_notice")
KINDS = ("b2b", "b2c", "public")
LANGS = ("fr", "en")


def invoice(number: str, amount: str = "1800.00", paid: str = "0.00", kind: str = "b2b",
            days: int = 32) -> InvoiceLine:
    total, settled = Decimal(amount), Decimal(paid)
    professional = kind != "b2c"
    # The penalty table comes from the law core (law/table.py), as dispatch builds it.
    statement = compute(total - settled, dt.date(2026, 4, 16), dt.date(2026, 4, 16) + dt.timedelta(days=days),
                        kind) if kind in ("b2b", "public") else None  # type: ignore[arg-type]
    return InvoiceLine(
        number=number, issued=dt.date(2026, 3, 17), due=dt.date(2026, 4, 16), amount=total, paid=settled,
        balance=total - settled, days_late=days,
        penalties=Decimal("19.13") if professional else Decimal("0.00"),
        indemnity=Decimal("40.00") if professional else Decimal("0.00"),
        rate=Decimal("0.1215") if professional else None,
        table=penalty_table(number, statement) if statement is not None else None,
    )


def make_ctx(step: str, kind: str = "b2b", language: str = "fr", count: int = 1,
             name: str = "Boulangerie Exemple SARL", **changes: object) -> MessageContext:
    amounts = ("1800.00", "625.50", "2310.75")
    invoices = tuple(
        invoice(f"F-2026-{i + 101}", amounts[i], "900.00" if i == 0 else "0.00", kind) for i in range(count))
    values: dict[str, object] = {
        "company": COMPANY, "customer_name": name, "customer_kind": kind,
        "customer_address": "4 rue des Lilas, 69003 Lyon", "language": language, "step": step,
        "letter_date": dt.date(2026, 5, 18), "invoices": invoices,
        "reference": " ".join(i.number for i in invoices), "deadline": dt.date(2026, 5, 26),
        "history": (ContactEntry(dt.date(2026, 4, 9), "courtesy", "email"),
                 ContactEntry(dt.date(2026, 4, 16), "due", "email"),
                 ContactEntry(dt.date(2026, 4, 23), "call", "task")),
        "extra": {"approval_link": "https://relance.example/approve/abc123", "partner": "collection_agency",
               "partner_name": "Recouvrement Exemple", "case_id": "CASE-C1-2026-05",
               "expires": dt.date(2026, 6, 1), "reason": "dispatch stopped after the send",
               "flagged_step": "firm", "channel": "email"},
    }
    values.update(changes)
    return MessageContext(**values)  # type: ignore[arg-type]


def plain(text: str) -> str:
    """Fold the no-break spaces so that assertions read naturally."""
    return text.replace(formatting.NBSP, " ").replace(formatting.NNBSP, " ")


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(plain("\n".join(page.extract_text() for page in reader.pages)).split())


CASES = [(step, kind, lang, count) for step in STEPS for kind in KINDS for lang in LANGS for count in (1, 3)]


@pytest.mark.parametrize(("step", "kind", "lang", "count"), CASES)
def test_every_template_renders_the_key_facts(step: str, kind: str, lang: str, count: int) -> None:
    ctx = make_ctx(step, kind, lang, count)
    rendered = render(step, STEPS[step], ctx)
    assert isinstance(rendered, Rendered)
    assert rendered.subject and "\n" not in rendered.subject and "\r" not in rendered.subject
    balance = plain(formatting.eur(ctx.total_balance, lang))
    numbers = [i.number for i in ctx.invoices]
    if "email" in STEPS[step]:
        assert rendered.text and rendered.html
        text, html = plain(rendered.text), plain(rendered.html)
        for number in numbers:
            assert number in text and number in html
        assert "{{" not in text and "{%" not in html
        if step in CUSTOMER_STEPS:
            assert balance in text and balance in html
            assert COMPANY.siren in text and COMPANY.siren in html
            assert formatting.iban(COMPANY.iban) in text and formatting.iban(COMPANY.iban) in html
            assert COMPANY.bic in text and ctx.reference in text
            assert COMPANY.reply_to in text
            already = {"fr": "tenir compte", "en": "disregard"}[lang]
            assert already in text and already in html
            assert rendered.pdf is not None
    if "task" in STEPS[step]:
        assert rendered.task and rendered.task_subject
        assert "\n" not in rendered.task_subject
        for number in numbers:
            assert number in rendered.task
    if "sms" in STEPS[step]:
        assert rendered.sms
    if rendered.pdf is not None:
        assert rendered.pdf.startswith(b"%PDF")
        assert len(rendered.pdf) < 100_000


@pytest.mark.parametrize("step", CUSTOMER_STEPS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("count", [1, 3])
def test_letter_pdf_opens_and_shows_number_amount_and_payment(step: str, kind: str, lang: str,
                                                              count: int) -> None:
    ctx = make_ctx(step, kind, lang, count)
    rendered = render(step, ["letter"] if step == "formal_notice" else ["email"], ctx)
    assert rendered.pdf is not None
    reader = pypdf.PdfReader(io.BytesIO(rendered.pdf))
    if step in ("formal_notice", "final_notice"):  # the GDPR information (and the mediator) may need a second
        assert len(reader.pages) <= 2, "a notice with up to three invoices fits on two pages"
    else:
        assert len(reader.pages) == 1, "a reminder with up to three invoices fits on one page"
    text = pdf_text(rendered.pdf)
    for line in ctx.invoices:
        assert line.number in text
    assert plain(formatting.eur(ctx.total_balance, lang)) in text
    assert COMPANY.siren in text
    assert formatting.iban(COMPANY.iban) in text
    assert ctx.customer_name in text
    assert any(page.images for page in reader.pages), "the EPC QR code is embedded"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("count", [1, 3])
def test_b2b_formal_notice_states_the_commercial_code(lang: str, count: int) -> None:
    ctx = make_ctx("formal_notice", "b2b", lang, count)
    rendered = render("formal_notice", ["letter", "email"], ctx)
    assert rendered.text and rendered.html and rendered.pdf
    for body in (plain(rendered.text), plain(rendered.html), pdf_text(rendered.pdf)):
        assert "mise en demeure" in body.lower()
        assert "L441-10" in body and "D441-5" in body
        assert ("40 €" if lang == "fr" else "€40") in body
        assert plain(formatting.eur(ctx.total_claimed, lang)) in body
        assert ("huit jours à compter de la réception" if lang == "fr" else "eight days of receiving") in body
        assert plain(formatting.date_long(dt.date(2026, 5, 26), lang)) not in body  # not a date before receipt
        assert plain(formatting.rate(Decimal("0.1215"), lang)) in body
    assert "mise en demeure" in rendered.subject.lower() or "Mise en demeure" in rendered.subject


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("count", [1, 3])
def test_b2c_formal_notice_uses_the_civil_code_and_charges_no_fee(lang: str, count: int) -> None:
    ctx = make_ctx("formal_notice", "b2c", lang, count)
    rendered = render("formal_notice", ["letter", "email"], ctx)
    assert rendered.text and rendered.html and rendered.pdf
    for body in (plain(rendered.text), plain(rendered.html), pdf_text(rendered.pdf)):
        assert "mise en demeure" in body.lower()
        assert "1231-6" in body and "1344" in body
        assert "L441-10" not in body and "D441-5" not in body
        assert "40 €" not in body and "€40" not in body and "40,00" not in body and "40.00" not in body
        assert "indemnit" not in body.lower()


def test_consumer_is_never_shown_an_indemnity_even_if_the_lines_carry_one() -> None:
    lines = (InvoiceLine(number="F-9", issued=dt.date(2026, 3, 1), due=dt.date(2026, 3, 31),
                         amount=Decimal("300"), paid=Decimal("0"), balance=Decimal("300"), days_late=41,
                         indemnity=Decimal("40")),)
    ctx = make_ctx("final_notice", "b2c", "fr", 1, invoices=lines, reference="F-9")
    assert ctx.total_indemnity == 0 and ctx.total_claimed == Decimal("300.00")
    rendered = render("final_notice", ["email"], ctx)
    assert rendered.text and "40" not in plain(rendered.text).replace("2026", "")


@pytest.mark.parametrize("step", CUSTOMER_STEPS)
@pytest.mark.parametrize("kind", ["b2c"])
@pytest.mark.parametrize("lang", LANGS)
def test_amicable_messages_use_no_pseudo_judicial_words(step: str, kind: str, lang: str) -> None:
    rendered = render(step, STEPS[step], make_ctx(step, kind, lang, 3))
    assert rendered.text and rendered.html and rendered.pdf
    for body in (rendered.text.lower(), rendered.html.lower(), pdf_text(rendered.pdf).lower()):
        for word in ("huissier", "saisie", "commandement", "bailiff", "seizure"):
            assert word not in body


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("count", [1, 3])
def test_sms_is_short_plain_and_without_iban(kind: str, lang: str, count: int) -> None:
    ctx = make_ctx("firm", kind, lang, count, name="Société Générale d'Électricité")
    rendered = render("firm", ["sms"], ctx)
    sms = rendered.sms
    assert sms is not None
    assert formatting.sms_segments(sms) <= 2
    assert len(sms) <= 160
    assert formatting.is_gsm7(sms)
    assert "’" not in sms and "«" not in sms and "—" not in sms
    compact = formatting.compact_iban(COMPANY.iban)
    assert compact not in sms.replace(" ", "") and "IBAN" not in sms
    assert ctx.invoices[0].number in sms
    assert formatting.to_gsm7(plain(formatting.eur(ctx.total_balance, lang))) in sms


def test_template_file_contract_is_complete() -> None:
    root = templates_dir()
    parts = {"email": ["subject", "txt", "html"], "sms": ["sms"], "letter": ["subject", "letter"],
             "task": ["task"]}
    for lang in LANGS:
        for step, channels in STEPS.items():
            for channel in channels:
                for part in parts[channel]:
                    assert (root / lang / f"{step}.{part}.j2").is_file(), f"{lang}/{step}.{part}.j2"
        for step in CUSTOMER_STEPS:
            assert (root / lang / f"{step}.letter.j2").is_file()


# --- mandatory mentions (issue 15) --------------------------------------------------------------------

REGISTERED = dataclasses.replace(
    COMPANY, legal_form="SAS", share_capital="50 000 €", rcs_city="Lyon", signatory="Claire Martin",
    signatory_title="Responsable comptable", mediator_name="Médiateur Exemple de la consommation",
    mediator_address="10 rue de la Médiation, 75008 Paris", mediator_website="https://mediateur.example")


@pytest.mark.parametrize("lang", LANGS)
def test_business_notice_names_registry_capital_debtor_siren_and_signatory(lang: str) -> None:
    ctx = make_ctx("formal_notice", "b2b", lang, 2, company=REGISTERED, customer_siren="552100554")
    rendered = render("formal_notice", ["email"], ctx)
    assert rendered.pdf and rendered.text and rendered.html
    for body in (pdf_text(rendered.pdf), plain(rendered.text)):
        assert "SAS au capital de 50 000 €" in body and "RCS Lyon 123456789" in body
        assert "SIREN 552100554" in body          # the debtor's
        assert "Claire Martin" in body and "Responsable comptable" in body
        assert "service comptabilité" not in body and "Accounts department" not in body
        assert "Médiateur Exemple" not in body    # the mediator is for consumers
    assert ("Madame, Monsieur," if lang == "fr" else "Dear Sir or Madam,") in pdf_text(rendered.pdf)
    if lang == "fr":
        assert "Nous vous prions d'agréer, Madame, Monsieur, l'expression" in pdf_text(rendered.pdf)


@pytest.mark.parametrize("step", ["due", "firm", "formal_notice", "final_notice"])
def test_consumer_letters_name_the_mediator_and_the_person(step: str) -> None:
    ctx = make_ctx(step, "b2c", "fr", 1, company=REGISTERED, name="Łukasz Wiśniewski", customer_siren="552100554")
    rendered = render(step, ["email"], ctx)
    assert rendered.pdf and rendered.text
    for body in (pdf_text(rendered.pdf), plain(rendered.text)):
        assert "Médiateur Exemple de la consommation" in body and "https://mediateur.example" in body
        assert "L616-1" in body
        assert "Madame, Monsieur" not in body
        assert "SIREN 552100554" not in body      # a consumer has no SIREN on the letter
    assert "Bonjour Łukasz Wiśniewski," in pdf_text(rendered.pdf)
    gdpr = "Données personnelles" in pdf_text(rendered.pdf)
    assert gdpr == (step in ("formal_notice", "final_notice"))  # the letters that announce a partner


def test_civility_in_the_name_gives_the_french_salutation() -> None:
    assert make_ctx("firm", "b2c", name="Mme Claire Martin").salutation() == "Madame,"
    assert make_ctx("firm", "b2c", name="M. Paul Durand").vocative() == ", Monsieur,"
    assert make_ctx("firm", "b2b").vocative() == ", Madame, Monsieur,"
    assert make_ctx("firm", "b2c", "en", name="Jane Doe").salutation() == "Dear Jane Doe,"


def test_reminder_history_lists_reminders_only() -> None:
    ctx = make_ctx("formal_notice", "b2b", "fr", 1)   # history: courtesy 09/04, due 16/04, call 23/04
    rendered = render("formal_notice", ["email"], ctx)
    for body in (pdf_text(rendered.pdf or b""), plain(rendered.text or "")):
        assert "Malgré notre relance du 23/04/2026" in body
        assert "09/04/2026" not in body and "16/04/2026," not in body


def test_consumer_notice_never_calls_a_court_procedure_amicable() -> None:
    rendered = render("formal_notice", ["email"], make_ctx("formal_notice", "b2c", "fr", 1))
    for body in (pdf_text(rendered.pdf or b""), plain(rendered.text or ""), plain(rendered.html or "")):
        assert "démarches amiables entraînent" not in body
        assert "recouvrement amiable" in body


# --- emails on a phone (issue 15, point 11) ------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_email_tables_have_two_columns_so_a_phone_shows_every_figure(lang: str, kind: str) -> None:
    html = render("formal_notice", ["email"], make_ctx("formal_notice", kind, lang, 3)).html or ""
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        cells = re.findall(r"<t[dh]\b([^>]*)>", row)
        assert sum(int(re.search(r'colspan="(\d+)"', c).group(1)) if "colspan" in c else 1 for c in cells) <= 2


def _scroll_width(html: str, tmp_path: Path, width: int = 390) -> int:
    """The page width headless Chromium lays the email out at, in a ``width`` px wide window."""
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium on this machine")
    page = tmp_path / "email.html"
    # Chromium's headless window is at least 500 px wide: the email goes in a ``width`` px iframe instead.
    page.write_text(
        f'<html><body style="margin:0"><iframe id="f" style="width:{width}px;height:900px;border:0" '
        f'srcdoc="{escape(html, {chr(34): "&quot;"})}"></iframe><script>'
        "document.getElementById('f').addEventListener('load',e=>{const d=e.target.contentDocument;"
        "document.title='W'+Math.max(d.documentElement.scrollWidth,d.body.scrollWidth)})</script></body></html>",
        encoding="utf-8")
    out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          f"--window-size={width},900", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=False).stdout
    found = re.search(r"<title>W(\d+)</title>", out)
    assert found, out[:300]
    return int(found.group(1))


@pytest.mark.slow
@pytest.mark.parametrize(("step", "kind", "lang"), [("formal_notice", "b2b", "fr"), ("formal_notice", "public", "en"),
                                                     ("final_notice", "b2c", "fr"), ("approval_request", "b2b", "fr")])
def test_email_fits_a_390_px_phone_screen(step: str, kind: str, lang: str, tmp_path: Path) -> None:
    html = render(step, ["email"], make_ctx(step, kind, lang, 3, company=REGISTERED)).html or ""
    assert _scroll_width(html, tmp_path) <= 390
