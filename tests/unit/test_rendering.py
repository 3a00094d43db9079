"""Rendering machinery: filters, escaping, header safety, EPC QR payload, PDF text, errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from segno import helpers
from test_templates import COMPANY, make_ctx, plain

from relance.errors import RelanceError, ValidationError
from relance.rendering import environment as environment_module
from relance.rendering import formatting, render, render_pdf
from relance.rendering.environment import templates
from relance.rendering.pdf import pdf_text, write_letter
from relance.rendering.qrcode import epc_fields, epc_payload, epc_png, epc_qr

NB, NNB = formatting.NBSP, formatting.NNBSP


# --- filters --------------------------------------------------------------------------------------
def test_eur_uses_french_and_english_conventions() -> None:
    assert formatting.eur(Decimal("1800"), "fr") == f"1{NNB}800,00{NB}€"
    assert formatting.eur(Decimal("1800"), "en") == "€1,800.00"
    assert formatting.eur(Decimal("0.005"), "fr") == f"0,01{NB}€"   # half up, to the cent


def test_dates_and_rates() -> None:
    assert formatting.date_long(dt.date(2026, 4, 16), "fr") == f"16{NB}avril{NB}2026"   # never broken
    assert formatting.date_long(dt.date(2026, 4, 1), "fr") == f"1er{NB}avril{NB}2026"
    assert formatting.date_long(dt.date(2026, 4, 16), "en") == f"16{NB}April{NB}2026"
    assert formatting.date_short(dt.date(2026, 4, 16)) == "16/04/2026"
    assert formatting.rate(Decimal("0.1215"), "fr") == f"12,15{NB}%"
    assert formatting.rate(Decimal("0.1215"), "en") == "12.15%"
    assert formatting.rate(None) == "—"


def test_filters_follow_the_template_language() -> None:
    env = templates().env
    tpl = env.from_string("{{ x|eur }} {{ d|date_long }} {{ r|rate }}")
    assert tpl.render(language="fr", x=Decimal("12.5"), d=dt.date(2026, 8, 3), r=Decimal("0.1")) == (
        f"12,50{NB}€ 3{NB}août{NB}2026 10,00{NB}%")
    assert tpl.render(language="en", x=Decimal("12.5"), d=dt.date(2026, 8, 3), r=Decimal("0.1")) == (
        f"€12.50 3{NB}August{NB}2026 10.00%")


def test_one_line_leaves_no_double_space() -> None:
    assert formatting.one_line(f"Relance {NB}: facture  F-1 ") == f"Relance{NB}: facture F-1"
    assert "  " not in formatting.one_line("a \t b")


def test_one_line_removes_header_injection() -> None:
    assert formatting.one_line("Facture\r\nBcc: evil@example.com") == "Facture Bcc: evil@example.com"
    assert "\n" not in formatting.one_line("a\u2028b\x0bc\x85d")
    assert len(formatting.one_line("x" * 500)) == 200


def test_gsm7_mapping_and_segments() -> None:
    text = formatting.sms_text("L’échéance « due » — 1\u202f800,00\u00a0€ ; ça, c’est dû. Œuvre")
    assert formatting.is_gsm7(text)
    assert text == "L'échéance \"due\" - 1 800,00 € ; ca, c'est du. OEuvre"
    assert formatting.sms_segments("a" * 160) == 1
    assert formatting.sms_segments("a" * 161) == 2
    assert formatting.sms_segments("€" * 80) == 1 and formatting.sms_segments("€" * 81) == 2
    assert formatting.sms_segments("ê" * 71) == 2   # UCS-2


def test_city_and_address_lines() -> None:
    assert formatting.city("12 rue des Artisans, 69003 Lyon") == "Lyon"
    assert formatting.city("BP 12, 75001 Paris Cedex 01") == "Paris"
    assert formatting.city(None) is None
    assert formatting.address_lines("4 rue des Lilas, 69003 Lyon") == ["4 rue des Lilas", "69003 Lyon"]


# --- context ------------------------------------------------------------------------------------------
def test_context_totals() -> None:
    ctx = make_ctx("formal_notice", "b2b", "fr", 3)
    assert ctx.total_balance == Decimal("3836.25")
    assert ctx.total_penalties == Decimal("57.39")
    assert ctx.total_indemnity == Decimal("120.00")
    assert ctx.total_claimed == Decimal("4013.64")


def test_context_rejects_bad_values() -> None:
    with pytest.raises(ValidationError):
        make_ctx("due", kind="pro")
    with pytest.raises(ValidationError):
        make_ctx("due", language="de")
    with pytest.raises(ValidationError):
        make_ctx("due", invoices=())


# --- escaping and headers -----------------------------------------------------------------------------
HOSTILE = "<script>alert(1)</script> & \"Fils\" </line></to><payment>"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_hostile_customer_name_is_escaped_in_html_and_letter(lang: str) -> None:
    ctx = make_ctx("formal_notice", "b2b", lang, 1, name=HOSTILE)
    rendered = render("formal_notice", ["letter", "email"], ctx)
    assert rendered.html and rendered.pdf and rendered.text
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Fils&#34;" in rendered.html
    assert HOSTILE in rendered.text                       # plain text is not HTML: shown as typed
    text = pypdf.PdfReader(io.BytesIO(rendered.pdf)).pages[0].extract_text()
    assert "<script>alert(1)</script>" in text            # drawn as text, the markup did not break


def test_subject_never_carries_cr_or_lf() -> None:
    ctx = make_ctx("approval_request", "b2b", "fr", 1, name="Client\r\nBcc: victim@example.com\nX: y")
    rendered = render("approval_request", ["email"], ctx)
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert "Client Bcc: victim@example.com X: y" in rendered.subject


def test_task_subject_is_one_line() -> None:
    ctx = make_ctx("flagged_claim", "b2b", "fr", 1, name="A\r\nB")
    rendered = render("flagged_claim", ["task"], ctx)
    assert rendered.task_subject and "\n" not in rendered.task_subject
    assert rendered.subject == rendered.task_subject
    assert rendered.text is None and rendered.html is None and rendered.pdf is None


# --- EPC QR code --------------------------------------------------------------------------------------
def test_epc_payload_is_a_valid_epc_string() -> None:
    ctx = make_ctx("firm", "b2b", "fr", 3)
    fields = epc_fields(ctx)
    assert fields is not None
    payload = epc_payload(fields)
    lines = payload.split("\n")
    assert lines[0] == "BCD" and lines[1] == "002" and lines[2] in ("1", "2") and lines[3] == "SCT"
    assert lines[4] == "AGRIFRPPXXX"
    assert lines[5] == "Menuiserie Exemple SAS"
    assert lines[6] == "FR7630006000011234567890189"
    assert lines[7] == "EUR3836.25"
    assert lines[8] == "" and lines[9] == ""                # no purpose, no structured reference
    assert lines[10] == ctx.reference
    assert len(payload.encode("utf-8")) <= 331
    # segno's own builder produces the same bytes for the same fields
    expected = helpers._make_epc_qr_data(fields.name, fields.iban, fields.amount, text=fields.text,
                                         bic=fields.bic)
    assert payload.encode("iso-8859-1" if lines[2] == "2" else "utf-8") == expected
    qr = epc_qr(fields)
    assert qr.error == "M" and qr.version <= 13
    assert epc_png(fields).startswith(b"\x89PNG")


def test_epc_amount_trims_zero_cents_and_limits_lengths() -> None:
    company = dataclasses.replace(COMPANY, name="N" * 90, bic="")
    ctx = make_ctx("due", "b2b", "fr", 1, reference="R" * 200, company=company)
    fields = epc_fields(ctx)
    assert fields is not None
    assert len(fields.name) == 70 and len(fields.text) == 140 and fields.bic is None
    assert epc_payload(fields).split("\n")[7] == "EUR900"


def _decoded_qr(pdf: bytes) -> str:
    """Decode the QR code drawn in a PDF letter with a real decoder (ZXing), from the page's image."""
    zxingcpp = pytest.importorskip("zxingcpp")
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages      # a long notice puts the payment block on page 2
    images = [image for page in pages for image in page.images]
    assert len(images) == 1, "one image in the letter: the EPC QR code"
    image = images[0].image.convert("L")
    found = zxingcpp.read_barcodes(image.resize((image.width * 3, image.height * 3)))
    assert found, "no QR code could be read"
    return found[0].text


@pytest.mark.parametrize(("step", "kind"), [("formal_notice", "b2b"), ("formal_notice", "public"),
                                            ("final_notice", "b2b"), ("formal_notice", "b2c"), ("firm", "b2b")])
def test_qr_code_asks_what_the_letter_and_the_email_ask(step: str, kind: str) -> None:
    """The amount and reference the QR code carries are the ones the email and the letter ask to pay."""
    ctx = make_ctx(step, kind, "fr", 3)
    rendered = render(step, ["email"], ctx)
    assert rendered.pdf is not None and rendered.text is not None
    payload = _decoded_qr(rendered.pdf).split("\n")
    asked = ctx.total_claimed if step in ("formal_notice", "final_notice") else ctx.total_balance
    assert payload[0] == "BCD" and payload[7] == f"EUR{asked:.2f}".rstrip("0").rstrip(".")
    assert payload[10] == ctx.reference
    amount_text = plain(formatting.eur(asked))
    assert f"Montant : {amount_text}" in plain(rendered.text)
    letter = " ".join(plain(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(rendered.pdf)).pages))
                      .split())
    assert amount_text in letter and ctx.reference in letter
    if step == "formal_notice" and kind != "b2c":
        assert ctx.total_claimed != ctx.total_balance  # the case the review found: they used to differ


def test_no_qr_code_when_nothing_is_owed() -> None:
    line = make_ctx("due").invoices[0]
    zero = line.__class__(number="F-0", issued=line.issued, due=line.due, amount=Decimal("10"),
                          paid=Decimal("10"), balance=Decimal("0"), days_late=0)
    assert epc_fields(make_ctx("due", invoices=(zero,), reference="F-0")) is None


# --- PDF ----------------------------------------------------------------------------------------------
def test_pdf_text_keeps_what_the_font_has_and_maps_the_rest() -> None:
    assert pdf_text(f"1{NNB}800,00{NB}€ l’œuvre « ok »") == f"1{NB}800,00{NB}€ l’œuvre « ok »"
    assert pdf_text("Łukasz ≤ … Ω Ж") == "Łukasz ≤ … Ω Ж"
    assert pdf_text("名") == "?"


UNICODE_NAMES = {
    "pl": "Łukasz Wiśniewski, ul. Długa 5",
    "cs": "Příliš žluťoučký kůň, Řehoř Čápek",
    "tr": "Şükrü Güneş, İstanbul Ağaçlı Çarşı",
    "vi": "Nguyễn Thị Hương, Đường Lê Lợi",
    "signs": "« ≤ 5 000 € … » – ‰",
}


@pytest.mark.parametrize("lang", sorted(UNICODE_NAMES))
def test_letter_renders_every_script_a_french_business_meets(lang: str) -> None:
    """The letter and the case file embed a Unicode font: the names come back from the PDF unchanged."""
    name = UNICODE_NAMES[lang]
    ctx = make_ctx("formal_notice", name=name, customer_address=f"{name}, 00-950 Warszawa")
    text = " ".join(plain(page.extract_text()) for page in
                    pypdf.PdfReader(io.BytesIO(render_pdf("formal_notice", ctx))).pages)
    assert plain(name) in " ".join(text.split()), text[:400]


def test_case_file_pdf_keeps_unicode_and_the_less_or_equal_sign() -> None:
    from relance.escalation.casefile_pdf import draw_case_pdf

    case = {
        "case_id": "CASE-1", "built_on": "2026-11-02", "run_date": "2026-11-02",
        "creditor": {"name": "Menuiserie Exemple SAS", "siren": "123456782", "address": "12 rue X, 69003 Lyon",
                     "email": "a@b.fr"},
        "debtor": {"id": "C1", "name": UNICODE_NAMES["pl"], "kind": "b2b", "siren": "552100554",
                   "address": "ul. Długa 5, 00-950 Warszawa", "email": None, "phone": None, "language": "fr"},
        "invoices": [], "totals": {"balance": "10.00", "penalties": "0.00", "indemnity": "0.00",
                                   "claimed": "10.00"},
        "history": [], "disputes": [], "promises": [], "limitation_date": None, "warnings": [],
        "route": {"partner_name": "Étude Exemple", "reason": "solde du dossier ≤ 5 000 €"},
    }
    reader = pypdf.PdfReader(io.BytesIO(draw_case_pdf(case)))
    text = " ".join(plain(" ".join(page.extract_text() for page in reader.pages)).split())
    assert "Łukasz Wiśniewski" in text and "ul. Długa 5" in text and "≤ 5 000 €" in text


def test_render_pdf_is_small_and_readable() -> None:
    ctx = make_ctx("formal_notice", "b2b", "fr", 3)
    data = render_pdf("formal_notice", ctx)
    assert data.startswith(b"%PDF") and len(data) < 100_000
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = plain(reader.pages[0].extract_text())
    assert "F-2026-101" in text and "3 836,25 €" in text and "4 013,64 €" in text
    assert "Lyon, le 18 mai 2026" in text
    assert reader.metadata is not None and reader.metadata.author == "Menuiserie Exemple SAS"


def test_letter_markup_errors_name_the_template() -> None:
    ctx = make_ctx("due")
    with pytest.raises(RelanceError, match="not well formed"):
        write_letter("<letter><p>unclosed</letter>", ctx, None, where="x.letter.j2")
    with pytest.raises(RelanceError, match="unknown letter element"):
        write_letter("<letter><blink>x</blink></letter>", ctx, None)


# --- errors and template lookup -----------------------------------------------------------------------
def test_unknown_channel_and_missing_template() -> None:
    ctx = make_ctx("due")
    with pytest.raises(RelanceError, match="unknown channel"):
        render("due", ["fax"], ctx)
    with pytest.raises(RelanceError, match="has no sms part"):
        render("due", ["sms"], ctx)


def test_templates_dir_override_and_undefined_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "t.subject.j2").write_text("Bonjour {{ customer_name }}\n", encoding="utf-8")
    (tmp_path / "fr" / "t.task.j2").write_text("{{ extra.missing }}", encoding="utf-8")
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(tmp_path))
    environment_module.clear_cache()
    try:
        ctx = make_ctx("t", language="en")           # falls back to fr/
        rendered = render("t", ["task"], dataclasses.replace(ctx, extra={"missing": "ok"}))
        assert rendered.subject == "Bonjour Boulangerie Exemple SARL" and rendered.task == "ok\n"
        with pytest.raises(RelanceError, match="undefined"):
            render("t", ["task"], dataclasses.replace(ctx, extra={}))
    finally:
        monkeypatch.delenv("RELANCE_TEMPLATES_DIR")
        environment_module.clear_cache()


def test_environment_is_cached_and_compiles_once() -> None:
    assert templates() is templates()
    env = templates().env
    assert env.get_template("fr/due.txt.j2") is env.get_template("fr/due.txt.j2")


def test_case_file_is_french_on_a4_portrait_with_full_references() -> None:
    from relance.escalation.casefile_pdf import draw_case_pdf

    key = "letters/2026-05-18/C1/formal_notice-F-2026-101-F-2026-102-F-2026-103-F-2026-104.pdf"
    case = {
        "case_id": "CASE-2", "built_on": "2026-05-26", "run_date": "2026-05-26",
        "creditor": {"name": "Menuiserie Exemple SAS", "siren": "123456782", "address": "12 rue X, 69003 Lyon",
                     "email": "a@b.fr", "legal_form": "SAS", "share_capital": "50 000 €", "rcs_city": "Lyon"},
        "debtor": {"id": "C1", "name": "Boulangerie Exemple SARL", "kind": "b2b", "siren": "552100554",
                   "address": "4 rue des Lilas, 69003 Lyon", "email": None, "phone": None, "language": "fr"},
        "invoices": [{"id": "F-2026-101", "issued": "2026-03-17", "due": "2026-04-16", "amount": "3293.26",
                      "paid": "0.00", "balance": "3293.26", "days_late": 40, "penalties": "43.85",
                      "indemnity": "40.00", "limitation_date": "2031-04-16"}],
        "totals": {"balance": "3293.26", "penalties": "43.85", "indemnity": "40.00", "claimed": "3377.11"},
        "history": [{"date": "2026-04-09", "invoice": "F-2026-101", "kind": "imported"},
                    {"date": "2026-05-18", "invoice": "F-2026-101", "kind": "sent", "step": "formal_notice",
                     "channel": "letter", "key": key},
                    {"date": "2026-05-20", "invoice": "F-2026-101", "kind": "paused",
                     "reason": "promise to pay by 2026-06-01"},
                    {"date": "2026-05-26", "invoice": "F-2026-101", "kind": "escalation_started"}],
        "disputes": [], "promises": [], "limitation_date": "2031-04-16", "warnings": [],
        "route": {"partner_name": "Étude Exemple", "reason": "solde du dossier ≤ 5 000 €"},
    }
    reader = pypdf.PdfReader(io.BytesIO(draw_case_pdf(case)))
    page = reader.pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((595.28, 841.89))
    text = " ".join(plain(" ".join(p.extract_text() for p in reader.pages)).split())
    for english in ("imported", "escalation_started", "sent", "promise to pay", "3293.26"):
        assert not re.search(rf"(?<![\w/-]){re.escape(english)}(?![\w/-])", text), english
    for french in ("facture enregistrée", "transmission engagée", "mise en demeure", "courrier recommandé",
                   "promesse de paiement au 01/06/2026", "3 293,26 €", "26 mai 2026", "18/05/2026",
                   "SAS au capital de 50 000 €, RCS Lyon 123456782", "SIREN 552100554"):
        assert french in text, french
    assert "…" not in text
    assert key.replace("-", "") in text.replace(" ", "").replace("-", "")  # the whole key, wrapped not cut
