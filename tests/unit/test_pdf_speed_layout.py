"""PDF letters are laid out by relance itself (``_wrap``/``_put`` with ``FPDF.text``), not by fpdf2's ``cell`` and
``multi_cell``: these tests hold the layout to what those fpdf2 primitives draw (same line breaks, same places),
and check the page breaks, the footer, ``_fit`` and the EPC QR code image."""

from __future__ import annotations

import io
import random
import re
from typing import Any, cast
from xml.sax.saxutils import escape

import pypdf
import pytest
from fpdf import FPDF
from fpdf.enums import MethodReturnValue
from pypdf.generic import ContentStream
from test_templates import make_ctx

from relance.errors import RelanceError
from relance.rendering.fonts import FILES, UnicodePDF, install
from relance.rendering.pdf import (
    CONTENT_W,
    FONT,
    LINE,
    MARGIN,
    QR_SIZE,
    LetterWriter,
    _units,
    _wrap,
    pdf_text,
    write_letter,
)
from relance.rendering.qrcode import QUIET_ZONE, epc_fields, epc_image, epc_png, epc_qr

K = 72 / 25.4  # points per mm
PAGE_H = 297.0
_STYLES = {"DejaVuSansCondensed": "", "DejaVuSansCondensedBold": "B", "DejaVuSansCondensedOblique": "I"}
PAGE_W_MAX = 210 - MARGIN + 1.0001  # text starts 1 mm in from its box: paragraphs may reach 1 mm past it
_LETTERS = "abcdefghijklmnopqrstuvwxyzéèàùçœ€ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.;:'’«»()°"


def _pdf() -> FPDF:
    pdf = UnicodePDF(orientation="P", unit="mm", format="A4")
    for style in FILES:  # multi_cell(markdown=True) switches styles without set_font
        install(pdf, style)
    pdf.set_margins(MARGIN, 15, MARGIN)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    return pdf


def _text(line: object) -> str:
    return "".join(text for _, text, _ in line.chunks)  # type: ignore[attr-defined]


def _random_text(rng: random.Random, words: int) -> str:
    out = []
    for _ in range(words):
        roll = rng.random()
        if roll < 0.05:  # wider than a narrow line: cut between characters
            word = "".join(rng.choice("Wmi") for _ in range(rng.randint(25, 70)))
        elif roll < 0.12:
            word = "n°\u00a0F2026-" + str(rng.randint(1, 9999))  # a no-break space does not break
        else:
            word = "".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 12)))
        out.append(word)
    return " ".join(out)


# --- line breaking ------------------------------------------------------------------------------------
def test_wrap_breaks_lines_where_multi_cell_does() -> None:
    rng = random.Random(20260518)
    pdf = _pdf()
    for _ in range(300):
        style = rng.choice(["", "B", "I"])
        size = rng.choice([7.5, 9, 10, 10.5, 11])
        width = rng.choice([20.0, 37.3, 80.0, 85.0, CONTENT_W])
        text = pdf_text(_random_text(rng, rng.randint(1, 40)))
        pdf.set_font(FONT, style, size)
        expected = cast(list[str], pdf.multi_cell(width, 5, text, dry_run=True, output=MethodReturnValue.LINES))
        lines = _wrap([(style, text)], size, width - 2 * pdf.c_margin, pdf.k, plain_spaces=True)
        assert [_text(line) for line in lines] == expected, (style, size, width, text)
        for line in lines:
            assert line.units * size * 0.001 / pdf.k <= width - 2 * pdf.c_margin + 1e-9


def test_wrap_keeps_styled_pieces_of_a_word_together_like_multi_cell() -> None:
    rng = random.Random(7)
    pdf = _pdf()
    pdf.set_font(FONT, "", 10)
    for _ in range(200):
        runs: list[tuple[str, str]] = []
        markdown = ""
        for index in range(rng.randint(1, 8)):
            style = "B" if index % 2 else ""
            text = _random_text(rng, rng.randint(1, 6)).replace("\u00a0", " ")
            if runs and rng.random() < 0.5:
                text = " " + text  # otherwise the run continues the last word
            runs.append((style, text))
            markdown += f"**{text}**" if style else text
        width = rng.choice([40.0, CONTENT_W])
        expected = cast(list[str], pdf.multi_cell(width + 2 * pdf.c_margin, 5, markdown, markdown=True,
                                                  dry_run=True, output=MethodReturnValue.LINES))
        lines = _wrap(runs, 10, width, pdf.k)
        assert [_text(line) for line in lines] == [line.replace("**", "") for line in expected], runs


def test_wrap_drops_soft_hyphens_and_gives_no_line_for_nothing() -> None:
    assert _wrap([("", "")], 10, 50, K) == []
    assert [_text(line) for line in _wrap([("", "co\u00adop")], 10, 50, K)] == ["coop"]


# --- _fit ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["", "B"])
def test_fit_truncates_to_the_longest_prefix_whose_ellipsis_fits(style: str) -> None:
    rng = random.Random(3)
    writer = LetterWriter("<letter/>", None, make_ctx("due"), "test")
    pdf = writer.pdf
    size = 8.5
    pdf.set_font(FONT, style, size)
    for _ in range(200):
        text = pdf_text(_random_text(rng, rng.randint(1, 8)))
        width = rng.uniform(0.5, 60)
        fitted = writer._fit(text, width, style, size)
        limit = width - 1.5
        if pdf.get_string_width(text) <= limit:
            assert fitted == text
            continue
        assert fitted.endswith("…") and text.startswith(fitted[:-1])
        kept = len(fitted) - 1
        assert kept == 0 or pdf.get_string_width(fitted) <= limit  # exactly as wide as allowed, or less
        if kept < len(text):  # one more character would not fit
            assert pdf.get_string_width(text[:kept + 1] + "…") > limit


# --- a whole letter against fpdf2's own cell/multi_cell ---------------------------------------------------
FROM = [(True, "Menuiserie Exemple SAS"), (False, "12 rue de l'Exemple"),
        (False, "Zone artisanale des Grandes Terres, bâtiment C, porte 4, 69003 Lyon Cedex 03 France"),
        (False, "SIREN\u00a0123456782")]
TO = [(True, "Société Coopérative de Boulangerie-Pâtisserie Artisanale Exemple et Associés Réunis"),
      (False, "W" * 60), (False, ""), (False, "69003 Lyon")]
DATE = "Lyon, le 18 mai 2026"
NOTE = "Lettre recommandée avec demande d'avis de réception – copie adressée par courriel " * 2
SUBJECT = "Objet\u00a0: mise en demeure de payer – factures n°\u00a0F2026-0440, F2026-0441 " * 3
PARAGRAPH = [("", "Par la présente, nous vous "), ("B", "mettons en demeure"), ("", " de nous régler la somme de "),
             ("B", "2\u00a0240,50\u00a0€"), ("", ", soit dans un délai de huit jours à compter de la présente. ")]
TABLE = [("head", [("Facture", "L"), ("Montant", "R"), ("Jours", "C")]),
         ("", [("F2026-0440", "L"), ("1\u00a0800,00\u00a0€", "R"), ("32", "C")]),
         ("total", [("Total", "L"), ("1\u00a0800,00\u00a0€", "R"), ("", "C")])]
PAYMENT = [(True, "Règlement par virement"), (False, "IBAN FR76 3000 6000 0112 3456 7890 189")]
SIGN = [(False, "Le service comptabilité"), (True, "Menuiserie Exemple SAS")]
FOOTER = "Menuiserie Exemple SAS · SIREN 123456782 · 12 rue de l'Exemple, 69003 Lyon · " * 3


def _markup(paragraphs: int) -> str:
    def lines(tag: str, items: list[tuple[bool, str]]) -> str:
        inner = "".join(f'<line b="1">{escape(t)}</line>' if b else f"<line>{escape(t)}</line>" for b, t in items)
        return f"<{tag}>{inner}</{tag}>"

    paragraph = "".join(f"<b>{escape(t)}</b>" if s else escape(t) for s, t in PARAGRAPH * 3)
    rows = "".join(f'<tr kind="{kind}">' + "".join(f'<td align="{a}">{escape(t)}</td>' for t, a in cells)
                   + "</tr>" for kind, cells in TABLE)
    return (f'<letter title="MISE EN DEMEURE">{lines("from", FROM)}{lines("to", TO)}<dateline>{DATE}</dateline>'
            f"<note>{escape(NOTE)}</note><subject>{escape(SUBJECT)}</subject>"
            + f"<p>{paragraph}</p>" * paragraphs
            + f'<table widths="40,40,20" size="8.5">{rows}</table>{lines("payment", PAYMENT)}'
            + f"{lines('sign', SIGN)}<footer>{escape(FOOTER)}</footer></letter>")


class _Reference(UnicodePDF):
    """The letter as fpdf2's cell/multi_cell draw it (what LetterWriter did before laying text out itself)."""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(90, 90, 90)
        self.multi_cell(0, 3.4, FOOTER.strip(), align="C")
        self.set_text_color(0, 0, 0)


def _reference(paragraphs: int) -> bytes:
    pdf = _Reference(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN, 15, MARGIN)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font(FONT, "B", 12)
    pdf.set_xy(110, 15)
    pdf.cell(80, 6, "MISE EN DEMEURE", align="R")

    def lines(items: list[tuple[bool, str]], x: float, y: float, width: float, size: float) -> float:
        pdf.set_xy(x, y)
        for bold, text in items:
            pdf.set_font(FONT, "B" if bold else "", size + (1 if bold else 0))
            pdf.set_x(x)
            pdf.multi_cell(width, LINE, text, align="L", new_x="LMARGIN", new_y="NEXT")
        return pdf.get_y()

    bottom = max(lines(FROM, MARGIN, 15, 85, 9), lines(TO, 110, 45, 80, 10))
    pdf.set_font(FONT, "", 10)
    pdf.set_xy(MARGIN, max(bottom + 6, 78))
    pdf.cell(CONTENT_W, LINE, DATE, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "I", 9)
    pdf.multi_cell(0, 4.2, NOTE.strip(), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font(FONT, "B", 10.5)
    pdf.multi_cell(0, 5, SUBJECT.strip(), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    markdown = "".join(f"**{t}**" if s else t for s, t in PARAGRAPH * 3).strip()
    for _ in range(paragraphs):  # paragraphs wrap at the content width, 1 mm in from the margin
        pdf.set_font(FONT, "", 10)
        pdf.set_x(MARGIN)
        pdf.multi_cell(CONTENT_W + 2 * pdf.c_margin, LINE, markdown, markdown=True, align="L",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.8)
    pdf.set_draw_color(160, 160, 160)
    pdf.set_line_width(0.2)
    for kind, cells in TABLE:
        pdf.set_font(FONT, "B" if kind else "", 8.5)
        if kind == "head":
            pdf.set_fill_color(232, 232, 232)
        if pdf.get_y() + 8.5 * 0.62 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_x(MARGIN)
        for (text, align), width in zip(cells, (68, 68, 34), strict=True):
            pdf.cell(width, 8.5 * 0.62, text, border=1, align=align, fill=kind == "head")
        pdf.ln(8.5 * 0.62)
    pdf.ln(3)
    height = len(PAYMENT) * LINE + 4
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.3)
    pdf.rect(MARGIN, top, CONTENT_W, height)
    pdf.set_xy(MARGIN + 3, top + 2)
    for bold, text in PAYMENT:
        pdf.set_font(FONT, "B" if bold else "", 9.5)
        pdf.set_x(MARGIN + 3)
        pdf.cell(CONTENT_W - 4, LINE, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(MARGIN, top + height)
    pdf.ln(4)
    if pdf.get_y() + 14 > pdf.page_break_trigger:
        pdf.add_page()
    lines(SIGN, 110, pdf.get_y() + 2, 80, 10)
    return bytes(pdf.output())


def _drawn(data: bytes) -> list[tuple[int, float, float, str, str, float]]:
    """Every word drawn: (page, x mm, baseline y mm from the top, word, style, size), reading the content
    streams; justified text (``Tw``) is split into words at the places the spacing puts them. (multi_cell
    writes no-break spaces as spaces, the paragraphs keep them: both are word boundaries here.)"""
    reader = pypdf.PdfReader(io.BytesIO(data))
    out = []
    for number, page in enumerate(reader.pages):
        fonts = cast(Any, page["/Resources"])["/Font"]
        style, size, spacing, saved, codes = "", 0.0, 0.0, [], {}
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                saved.append(spacing)
            elif operator == b"Q":
                spacing = saved.pop()
            elif operator == b"Tf":
                font = fonts[operands[0]].get_object()
                style, size = _STYLES[font["/BaseFont"][1:].split("+")[-1]], float(operands[1])
                codes = _to_unicode(font)
            elif operator == b"Tw":
                spacing = float(operands[0])
            elif operator == b"Td":
                x, y = float(operands[0]), float(operands[1])
            elif operator in (b"Tj", b"TJ"):
                # TJ: fpdf2 justifies 2-byte text with offsets between the pieces (Tw only moves byte 32)
                pieces = operands[0] if operator == b"TJ" else [operands[0]]
                start, word = x, ""
                for piece in pieces:
                    if isinstance(piece, (int, float)) or type(piece).__name__ in ("FloatObject", "NumberObject"):
                        if word:
                            out.append((number, start / K, PAGE_H - y / K, word, style, size))
                        x -= float(piece) * size / 1000
                        start, word = x, ""
                        continue
                    raw = getattr(piece, "_original_bytes", None) or (
                        piece.get_original_bytes() if hasattr(piece, "get_original_bytes") else bytes(piece))
                    for char in (codes[raw[i:i + 2]] for i in range(0, len(raw), 2)):
                        if char in " \u00a0":  # no-break spaces also part words here
                            if word:
                                out.append((number, start / K, PAGE_H - y / K, word, style, size))
                            x += _units(char, style) * size / 1000 + (spacing if char == " " else 0.0)
                            start, word = x, ""
                            continue
                        word += char
                        x += _units(char, style) * size / 1000
                if word:
                    out.append((number, start / K, PAGE_H - y / K, word, style, size))
    return out


def _to_unicode(font: Any) -> dict[bytes, str]:
    """2-byte code -> character, from the font's ToUnicode CMap (Identity-H text)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    return {bytes.fromhex(code): bytes.fromhex(uni).decode("utf-16-be")
            for code, uni in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", cmap)}


def _rects(data: bytes) -> list[tuple[int, float, float, float, float]]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [(number, *(round(float(v), 1) for v in operands))  # type: ignore[misc]
            for number, page in enumerate(reader.pages)
            for operands, operator in ContentStream(page.get_contents(), reader).operations if operator == b"re"]


@pytest.mark.parametrize("paragraphs", [1, 9])
def test_letter_draws_every_word_where_cell_and_multi_cell_did(paragraphs: int) -> None:
    ours = write_letter(_markup(paragraphs), make_ctx("formal_notice"), None)
    reference = _reference(paragraphs)
    assert len(pypdf.PdfReader(io.BytesIO(ours)).pages) == len(pypdf.PdfReader(io.BytesIO(reference)).pages)
    drawn, expected = _drawn(ours), _drawn(reference)
    key = lambda item: (item[0], round(item[2], 1), item[1])  # noqa: E731
    drawn.sort(key=key)
    expected.sort(key=key)
    assert [item[3] for item in drawn] == [item[3] for item in expected]
    for got, want in zip(drawn, expected, strict=True):
        assert got[0] == want[0] and got[4:] == want[4:], (got, want)
        assert got[1] == pytest.approx(want[1], abs=0.01) and got[2] == pytest.approx(want[2], abs=0.01), (got, want)
    assert _rects(ours) == _rects(reference)


def test_long_letter_stays_in_the_page_and_has_the_footer_on_every_page() -> None:
    data = write_letter(_markup(25), make_ctx("formal_notice"), None)
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    assert pages >= 3
    footer_words = pdf_text(FOOTER).split()
    for page in range(pages):
        words = [item for item in _drawn(data) if item[0] == page]
        footer = [item for item in words if item[5] == 7.5]
        body = [item for item in words if item[5] != 7.5]
        assert [item[3] for item in footer] == footer_words  # the whole footer, on every page
        assert min(item[2] for item in footer) > PAGE_H - 14  # at 14 mm from the bottom
        for item in body:
            right = item[1] + _units(item[3], item[4]) * item[5] * 0.001 * 25.4 / 72
            assert item[1] > MARGIN and right <= PAGE_W_MAX, item
            assert item[2] < PAGE_H - 20, item  # above the bottom margin
        lines: dict[float, list[float]] = {}
        for item in footer:
            right = item[1] + _units(item[3], "") * 7.5 * 0.001 * 25.4 / 72
            lines.setdefault(round(item[2], 2), []).extend([item[1], right])
        for edges in lines.values():  # centred
            assert (min(edges) + max(edges)) / 2 == pytest.approx(105, abs=0.01)


def test_very_long_address_line_and_subject_wrap_within_their_boxes() -> None:
    data = write_letter(_markup(1), make_ctx("formal_notice"), None)
    words = _drawn(data)
    dateline = min(item[2] for item in words if item[3] == "Lyon,")
    recipient = [item for item in words if item[1] >= 110 and item[2] < dateline and item[5] in (10, 11)]
    assert {item[3] for item in recipient} >= {"Société", "Réunis", "69003", "Lyon"}
    for item in recipient:  # the block at x=110 is 80 mm wide, text 1 mm in from each side
        right = item[1] + _units(item[3], item[4]) * item[5] * 0.001 * 25.4 / 72
        assert item[1] >= 111 - 0.001 and right <= 189 + 0.001, item
    cut = [item for item in recipient if set(item[3]) == {"W"}]
    assert len(cut) >= 2 and sum(len(item[3]) for item in cut) == 60  # a word too wide is cut, not lost
    subject = [item for item in words if item[4] == "B" and item[5] == 10.5]
    assert len({round(item[2], 2) for item in subject}) >= 2  # wrapped
    for item in subject:
        right = item[1] + _units(item[3], "B") * 10.5 * 0.001 * 25.4 / 72
        assert right <= 190 - 1 + 0.01  # justified: the last word ends at the edge, to the 0.01 pt rounding


def test_unknown_table_alignment_is_an_error() -> None:
    with pytest.raises(RelanceError, match="alignment"):
        write_letter('<letter><table><tr><td align="Z">x</td></tr></table></letter>', make_ctx("due"), None)


# --- EPC QR code --------------------------------------------------------------------------------------
def test_epc_image_has_the_pixels_of_the_png() -> None:
    from PIL import Image

    fields = epc_fields(make_ctx("formal_notice", count=3))
    assert fields is not None
    for scale in (1, 2, 4):
        png = Image.open(io.BytesIO(epc_png(fields, scale=scale))).convert("L")
        image = epc_image(fields, scale=scale)
        assert image.mode == "L" and image.size == png.size and image.tobytes() == png.tobytes()


def test_letter_qr_code_is_the_epc_matrix_at_the_same_size() -> None:
    ctx = make_ctx("formal_notice", count=3)
    fields = epc_fields(ctx)
    assert fields is not None
    data = write_letter(_markup(1), ctx, fields)
    reader = pypdf.PdfReader(io.BytesIO(data))
    page = next(p for p in reader.pages if p.images)
    image = cast(Any, page.images[0].image).convert("L")
    matrix = epc_qr(fields).matrix
    side = len(matrix) + 2 * QUIET_ZONE
    assert image.size[0] == image.size[1] and image.size[0] % side == 0
    scale = image.size[0] // side
    assert scale >= 2  # at least 2 px per module: no blurry upscaling in viewers
    pixels = cast(Any, image.load())
    for row in range(side):
        for column in range(side):
            dark = pixels[column * scale + scale // 2, row * scale + scale // 2] < 128
            inside = QUIET_ZONE <= row < side - QUIET_ZONE and QUIET_ZONE <= column < side - QUIET_ZONE
            assert dark == (inside and bool(matrix[row - QUIET_ZONE][column - QUIET_ZONE])), (row, column)
    placed = [operands for operands, operator in ContentStream(page.get_contents(), reader).operations
              if operator == b"cm"]
    assert any(float(o[0]) == pytest.approx(QR_SIZE * K, abs=0.01)
               and float(o[3]) == pytest.approx(QR_SIZE * K, abs=0.01) for o in placed)
