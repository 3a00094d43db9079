"""Letters as PDF: a ``T.letter.j2`` template renders a small XML markup that this module draws with fpdf2.

The markup (autoescaped by jinja2, parsed with ElementTree) is one ``<letter title="...">`` holding, in
order of appearance::

    <from><line b="1">Name</line><line>...</line></from>       sender block, top left
    <to><line b="1">Customer</line><line>...</line></to>        recipient block, at the envelope window
    <dateline>Lyon, le 16 avril 2026</dateline>                 right aligned
    <note>...</note>                                            small italic line (mode of sending)
    <subject>Objet : ...</subject>                              bold
    <p>text with <b>bold</b> runs</p>                           paragraph (justified when plain)
    <table widths="22,18,..." size="8"><tr kind="head|total"><td align="L|C|R">..</td></tr></table>
    <payment><line>IBAN ...</line></payment>                    framed block + EPC QR code on the right
    <sign><line>...</line></sign>                               signature block
    <small>...</small>                                          small print
    <footer>...</footer>                                        bottom of every page
    <space h="3"/>                                              vertical space in mm

Core PDF fonts are used (nothing to embed, small files) with the Windows-1252 encoding, which has
``€``, ``’``, ``«»``, ``œ`` and the no-break space; other characters are mapped or replaced.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import CORE_FONTS_CHARWIDTHS

from relance.errors import RelanceError
from relance.rendering.context import MessageContext
from relance.rendering.qrcode import EpcFields, epc_png

PAGE_W = 210.0
MARGIN = 20.0
CONTENT_W = PAGE_W - 2 * MARGIN
LINE = 4.6
FONT = "helvetica"
QR_SIZE = 28.0
PT = 25.4 / 72  # millimetres per point
_GRAY = (90, 90, 90)
_WS = re.compile(r"[ \t\r\n]+")
_CP1252_MAP = str.maketrans({
    "\u202f": "\u00a0", "\u2009": " ", "\u2007": "\u00a0", "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2192": "->", "\u2713": "x", "\u2026": "\u2026",
})


def pdf_text(text: str) -> str:
    """Text the Windows-1252 core fonts can draw: narrow no-break spaces become no-break spaces, the rest
    of what the encoding lacks becomes ``?``."""
    text = text.translate(_CP1252_MAP)
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        return text.encode("cp1252", errors="replace").decode("cp1252")


@lru_cache(maxsize=8)
def _widths(style: str) -> dict[str, int]:
    """Glyph widths (per 1000 em) of the core Helvetica face for ``style``."""
    return CORE_FONTS_CHARWIDTHS[FONT + style]


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "")


class _Letter(FPDF):
    footer_text = ""

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-14)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*_GRAY)
        self.multi_cell(0, 3.4, self.footer_text, align="C")
        self.set_text_color(0, 0, 0)


class LetterWriter:
    """Draws one letter markup into a PDF."""

    def __init__(self, markup: str, qr: EpcFields | None, ctx: MessageContext, where: str) -> None:
        self.where = where
        try:
            self.root = ET.fromstring(markup)
        except ET.ParseError as exc:
            raise RelanceError(f"letter markup is not well formed: {exc}", where) from exc
        if self.root.tag != "letter":
            raise RelanceError(f"letter markup must have <letter> as root, not <{self.root.tag}>", where)
        self.qr = qr
        self.ctx = ctx
        pdf = _Letter(orientation="P", unit="mm", format="A4")
        pdf.core_fonts_encoding = "cp1252"
        pdf.set_margins(MARGIN, 15, MARGIN)
        pdf.set_auto_page_break(True, margin=20)
        pdf.set_creator("relance")
        pdf.set_author(pdf_text(ctx.company.name))
        pdf.set_title(pdf_text(_clean(self.root.get("title", "")) or ctx.step))
        noon = dt.datetime.combine(ctx.letter_date, dt.time(12, 0), tzinfo=ZoneInfo("Europe/Paris"))
        pdf.set_creation_date(noon)
        footer = self.root.find("footer")
        pdf.footer_text = pdf_text(_clean(footer.text).strip()) if footer is not None else ""
        self.pdf = pdf
        self.header_bottom = 0.0

    # --- blocks -------------------------------------------------------------------------------------
    def _lines(self, element: ET.Element, x: float, y: float, width: float, size: float = 10) -> float:
        pdf = self.pdf
        pdf.set_xy(x, y)
        for line in element.iter("line"):
            bold = line.get("b") == "1"
            pdf.set_font(FONT, "B" if bold else "", size + (1 if bold else 0))
            pdf.set_x(x)
            pdf.multi_cell(width, LINE, pdf_text(_clean(line.text).strip()), align="L",
                           new_x="LMARGIN", new_y="NEXT")
        return pdf.get_y()

    def _from(self, element: ET.Element) -> None:
        bottom = self._lines(element, MARGIN, 15, 85, size=9)
        self.header_bottom = max(self.header_bottom, bottom)

    def _title(self) -> None:
        title = _clean(self.root.get("title", "")).strip()
        if title:
            pdf = self.pdf
            pdf.set_font(FONT, "B", 12)
            pdf.set_xy(110, 15)
            pdf.cell(80, 6, pdf_text(title), align="R")

    def _to(self, element: ET.Element) -> None:
        bottom = self._lines(element, 110, 45, 80, size=10)
        self.header_bottom = max(self.header_bottom, bottom)

    def _dateline(self, element: ET.Element) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "", 10)
        pdf.set_xy(MARGIN, max(self.header_bottom + 6, 78))
        pdf.cell(CONTENT_W, LINE, pdf_text(_clean(element.text).strip()), align="R",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

    def _note(self, element: ET.Element) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "I", 9)
        pdf.multi_cell(0, 4.2, pdf_text(_clean(element.text).strip()), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    def _subject(self, element: ET.Element) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "B", 10.5)
        pdf.multi_cell(0, 5, pdf_text(_clean("".join(element.itertext())).strip()),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    def _words(self, runs: list[tuple[str, str]], size: float) -> list[tuple[str, str, float, float]]:
        """Split styled runs into (style, word, width, width of the space after it)."""
        out: list[tuple[str, str, float, float]] = []
        for style, text in runs:
            widths = _widths(style)
            scale = size / 1000 * PT
            space = widths.get(" ", 278) * scale
            for index, word in enumerate(text.split(" ")):
                if index > 0 and out:
                    out[-1] = (out[-1][0], out[-1][1], out[-1][2], space)
                if word:
                    encoded = word.encode("cp1252", errors="replace").decode("latin-1")
                    width = sum(widths.get(c, 500) for c in encoded) * scale
                    out.append((style, word, width, 0.0))
        return out

    def _paragraph(self, element: ET.Element, size: float = 10, line: float = LINE) -> None:
        """A paragraph, wrapped here (fpdf2's multi_cell is slow on long text); ``<b>``/``<i>`` runs kept."""
        pdf = self.pdf
        runs: list[tuple[str, str]] = [("", pdf_text(_clean(element.text)))]
        for child in element:
            style = "B" if child.tag == "b" else "I" if child.tag == "i" else ""
            runs.append((style, pdf_text(_clean("".join(child.itertext())))))
            runs.append(("", pdf_text(_clean(child.tail))))
        words = self._words(runs, size)
        lines: list[list[tuple[str, str, float, float]]] = [[]]
        used = 0.0
        for token in words:
            current = lines[-1]
            gap = current[-1][3] if current else 0.0
            if current and used + gap + token[2] > CONTENT_W:
                lines.append([token])
                used = token[2]
            else:
                current.append(token)
                used += gap + token[2]
        for words_on_line in lines:
            if pdf.get_y() + line > pdf.page_break_trigger:
                pdf.add_page()
            pdf.set_x(MARGIN)
            # Merge consecutive words of one style into one cell: fewer text objects, same look.
            chunk_style = None
            chunk = ""
            chunk_w = 0.0
            for index, (style, word, width, space) in enumerate(words_on_line):
                last = index == len(words_on_line) - 1
                text = word + ("" if last or not space else " ")
                extra = 0.0 if last else space
                if style != chunk_style and chunk:
                    pdf.set_font(FONT, chunk_style or "", size)
                    pdf.cell(chunk_w, line, chunk)
                    chunk, chunk_w = "", 0.0
                chunk_style = style
                chunk += text
                chunk_w += width + extra
            if chunk:
                pdf.set_font(FONT, chunk_style or "", size)
                pdf.cell(chunk_w, line, chunk)
            pdf.ln(line)
        pdf.ln(1.8)

    def _small(self, element: ET.Element) -> None:
        self.pdf.set_text_color(*_GRAY)
        self._paragraph(element, size=8, line=3.6)
        self.pdf.set_text_color(0, 0, 0)

    def _fit(self, text: str, width: float) -> str:
        pdf = self.pdf
        if pdf.get_string_width(text) <= width - 1.5:
            return text
        while text and pdf.get_string_width(text + "…") > width - 1.5:
            text = text[:-1]
        return text + "…"

    def _table(self, element: ET.Element) -> None:
        pdf = self.pdf
        raw = [float(w) for w in (element.get("widths") or "").split(",") if w.strip()]
        size = float(element.get("size", "8.5"))
        rows = element.findall("tr")
        ncols = max((sum(int(c.get("span", "1")) for c in r.findall("td")) for r in rows), default=0)
        if not ncols:
            return
        if len(raw) != ncols:
            raw = [1.0] * ncols
        scale = CONTENT_W / sum(raw)
        widths = [w * scale for w in raw]
        height = size * 0.62
        pdf.set_draw_color(160, 160, 160)
        pdf.set_line_width(0.2)
        for row in rows:
            kind = row.get("kind", "")
            bold = kind in ("head", "total")
            pdf.set_font(FONT, "B" if bold else "", size)
            fill = kind == "head"
            if fill:
                pdf.set_fill_color(232, 232, 232)
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
            pdf.set_x(MARGIN)
            column = 0
            for cell in row.findall("td"):
                span = max(1, int(cell.get("span", "1")))
                width = sum(widths[column:column + span])
                column += span
                if width <= 0:
                    break
                text = self._fit(pdf_text(_clean("".join(cell.itertext())).strip()), width)
                pdf.cell(width, height, text, border=1, align=cell.get("align", "L"), fill=fill)
            pdf.ln(height)
        pdf.ln(3)

    def _payment(self, element: ET.Element) -> None:
        pdf = self.pdf
        lines = element.findall("line")
        show_qr = self.qr is not None and element.get("qr", "1") != "0"
        text_w = CONTENT_W - (QR_SIZE + 8 if show_qr else 4)
        height = max(len(lines) * LINE + 4, QR_SIZE + 4 if show_qr else 0)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_draw_color(120, 120, 120)
        pdf.set_line_width(0.3)
        pdf.rect(MARGIN, top, CONTENT_W, height)
        pdf.set_xy(MARGIN + 3, top + 2)
        for line in lines:
            bold = line.get("b") == "1"
            pdf.set_font(FONT, "B" if bold else "", 9.5)
            pdf.set_x(MARGIN + 3)
            pdf.cell(text_w, LINE, self._fit(pdf_text(_clean("".join(line.itertext())).strip()), text_w),
                     new_x="LMARGIN", new_y="NEXT")
        if show_qr and self.qr is not None:
            png = epc_png(self.qr)
            pdf.image(io.BytesIO(png), x=MARGIN + CONTENT_W - QR_SIZE - 2, y=top + 2, w=QR_SIZE, h=QR_SIZE)
        pdf.set_xy(MARGIN, top + height)
        pdf.ln(4)

    def _sign(self, element: ET.Element) -> None:
        pdf = self.pdf
        if pdf.get_y() + 14 > pdf.page_break_trigger:
            pdf.add_page()
        self._lines(element, 110, pdf.get_y() + 2, 80, size=10)
        pdf.ln(2)

    def _space(self, element: ET.Element) -> None:
        self.pdf.ln(float(element.get("h", "3")))

    # --- document -----------------------------------------------------------------------------------
    def write(self) -> bytes:
        """Draw every block in order and return the PDF bytes."""
        pdf = self.pdf
        pdf.add_page()
        self._title()
        handlers = {
            "from": self._from, "to": self._to, "dateline": self._dateline, "note": self._note,
            "subject": self._subject, "p": self._paragraph, "table": self._table,
            "payment": self._payment, "sign": self._sign, "small": self._small, "space": self._space,
        }
        for element in self.root:
            if element.tag == "footer":
                continue
            handler = handlers.get(element.tag)
            if handler is None:
                raise RelanceError(f"unknown letter element <{element.tag}>", self.where)
            pdf.set_text_color(0, 0, 0)
            handler(element)
        return bytes(pdf.output())


def write_letter(markup: str, ctx: MessageContext, qr: EpcFields | None, where: str = "letter") -> bytes:
    """Draw a rendered letter markup as an A4 PDF."""
    return LetterWriter(markup, qr, ctx, where).write()
