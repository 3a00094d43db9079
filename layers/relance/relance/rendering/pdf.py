"""Letters as PDF: a ``T.letter.j2`` template renders a small XML markup that this module draws with fpdf2.

The markup (autoescaped by jinja2, parsed with ElementTree) is one ``<letter title="...">`` holding, in
order of appearance::

    <from><line b="1">Name</line><line>...</line></from>       sender block, top left
    <to><line b="1">Customer</line><line>...</line></to>        recipient block, at the envelope window
    <dateline>Lyon, le 16 avril 2026</dateline>                 right aligned
    <note>...</note>                                            small italic line (mode of sending)
    <subject>Objet : ...</subject>                              bold
    <p>text with <b>bold</b> runs</p>                           paragraph (left-aligned, wrapped)
    <table widths="22,18,..." size="8"><tr kind="head|total"><td align="L|C|R">..</td></tr></table>
    <payment><line>IBAN ...</line></payment>                    framed block + EPC QR code on the right
    <sign><line>...</line></sign>                               signature block
    <small>...</small>                                          small print
    <footer>...</footer>                                        bottom of every page
    <space h="3"/>                                              vertical space in mm

The font is DejaVu Sans Condensed (about as wide as Helvetica), embedded (:mod:`relance.rendering.fonts`):
every Latin script (Polish, Czech, Turkish, Vietnamese ...), Greek, Cyrillic and the usual symbols
(``€ ≤ … « »``). A character it lacks is drawn as its base letter when it has one (``NFKD``), else ``?``.

Text is laid out here rather than by fpdf2's ``cell``/``multi_cell`` (several times slower): ``_wrap``
breaks styled runs into lines with the font's glyph widths, following multi_cell's rules (breaks only at
plain spaces: dates and amounts hold no-break spaces), and ``_put`` draws a line with ``FPDF.text`` exactly
where ``cell`` would have put it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

from fpdf import FPDF

from relance.errors import RelanceError
from relance.rendering import fonts
from relance.rendering.context import MessageContext
from relance.rendering.qrcode import EpcFields, epc_image

PAGE_W = 210.0
MARGIN = 20.0
CONTENT_W = PAGE_W - 2 * MARGIN
LINE = 4.6
FONT = fonts.FAMILY
QR_SIZE = 28.0
QR_SCALE = 4  # image pixels per QR module
_GRAY = (90, 90, 90)
_WS = re.compile(r"[ \t\r\n]+")
_GAPS = re.compile(r"([ \u00a0])")
_TOLERANCE = 1e-9  # fpdf2's FloatTolerance: how far a line may exceed its width
_ALIGNS = {"L": "L", "J": "L", "C": "C", "R": "R"}  # what a one-line cell does with each alignment
_SPACE_MAP = str.maketrans({"\u202f": "\u00a0", "\u2007": "\u00a0", "\u2009": " "})
_MAPPED = re.compile("[\u202f\u2007\u2009]")

Run = tuple[str, str]
"""A styled run: (style ``""``, ``"B"`` or ``"I"``, text already through :func:`pdf_text`)."""
Chunk = tuple[str, str, int]
"""Text of one style on a line: (style, text, width in thousandths of the font size)."""


class _Line(NamedTuple):
    """A laid-out line: its chunks, its width (thousandths of the font size) and whether it ends at a
    word wrap (the lines that ``align="J"`` stretches; the last line and cut words are not)."""

    chunks: list[Chunk]
    units: int
    wrapped: bool


_EMPTY = _Line([], 0, False)


def pdf_text(text: str) -> str:
    """Text the embedded font draws: narrow and figure no-break spaces become no-break spaces (one width
    for every space the layout measures), a character without a glyph becomes its base letter, or ``?``."""
    if _MAPPED.search(text):
        text = text.translate(_SPACE_MAP)
    if text.isascii():
        return text
    cmap = fonts.widths("")
    if all(char in cmap for char in text):
        return text
    return "".join(char if char in cmap else _fallback(char) for char in text)


def _fallback(char: str) -> str:
    if char in "\r\n\t":
        return " "
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    table = fonts.widths("")
    return base if base and all(c in table for c in base) else "?"


def _widths(style: str) -> dict[str, int]:
    """Glyph widths (per 1000 em) of the embedded font for ``style``, by character."""
    return fonts.widths(style)


def _units(text: str, style: str) -> int:
    """Width of ``text`` (through :func:`pdf_text`) in thousandths of the font size."""
    return sum(map(_widths(style).__getitem__, text))


def _mm(units: int, size: float, k: float) -> float:
    """``units`` (thousandths of a ``size`` pt font) in mm, computed as fpdf2's ``get_string_width`` does."""
    return units * size * 0.001 / k


def _max_units(width: float, size: float, k: float) -> int:
    """The widest text (thousandths of the font size) that fits ``width`` mm, with fpdf2's tolerance."""
    units = max(0, int(width * k / (size * 0.001)))
    while _mm(units + 1, size, k) - width <= _TOLERANCE:
        units += 1
    while units > 0 and _mm(units, size, k) - width > _TOLERANCE:
        units -= 1
    return units


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "")


def _single(style: str, text: str) -> list[_Line]:
    """One line holding ``text`` unwrapped (none for an empty text)."""
    if not text:
        return []
    units = _units(text, style)
    return [_Line([(style, text, units)], units, False)]


def _cut(word: list[Chunk], limit: int, lines: list[_Line]) -> list[Chunk]:
    """Cut a word wider than a line (``limit`` units) between characters, as multi_cell does: the full lines
    go to ``lines``, the rest (which starts the next line) is returned. At least one character per line."""
    line: list[Chunk] = []
    used = 0
    for style, text, _ in word:
        table = _widths(style)
        start = run = 0
        for index, char in enumerate(text):
            width = table[char]
            if (used or run) and used + run + width > limit:
                if index > start:
                    line.append((style, text[start:index], run))
                lines.append(_Line(line, used + run, False))
                line, used, start, run = [], 0, index, 0
            run += width
        if len(text) > start:
            line.append((style, text[start:], run))
            used += run
    return line


def _wrap(runs: Sequence[Run], size: float, width: float, k: float, plain_spaces: bool = False) -> list[_Line]:
    """Lay styled runs out in lines at most ``width`` mm wide, with multi_cell's rules: break at spaces (the
    space at a break is dropped), keep together the pieces of a word written in two styles, cut a word
    wider than a line between characters. No-break spaces do not break (``plain_spaces``: they are then
    written as spaces, as multi_cell does; same width); runs of spaces count as one; soft hyphens are
    dropped. An empty text gives no line."""
    words: list[list[Chunk]] = []
    sizes: list[int] = []  # width of each word
    spaced: list[int] = []  # width of the space after the word (0: none), in the style the space is written in
    glued = False  # the next piece continues the last word
    for style, text in runs:
        table = _widths(style)
        for index, part in enumerate(text.replace("\u00ad", "").split(" ")):
            if index:
                if words and not spaced[-1]:
                    spaced[-1] = table[" "]
                glued = False
            if not part:
                continue
            units = sum(map(table.__getitem__, part))
            if glued:
                words[-1].append((style, part, units))
                sizes[-1] += units
            else:
                words.append([(style, part, units)])
                sizes.append(units)
                spaced.append(0)
            glued = True
    limit = _max_units(width, size, k)
    lines: list[_Line] = []
    chunks: list[Chunk] = []
    used = gap = 0
    for word, units, space in zip(words, sizes, spaced, strict=True):
        if chunks and used + gap + units > limit:
            lines.append(_Line(chunks, used, True))
            chunks, used = [], 0
        if not chunks and units > limit:
            word = _cut(word, limit, lines)
        elif chunks:  # the space between two words goes with the first word, at the width it was written in
            style, text, width_of = chunks[-1]
            chunks[-1] = (style, text + " ", width_of + gap)
            used += gap
        for piece in word:
            if chunks and chunks[-1][0] == piece[0]:
                style, text, width_of = chunks[-1]
                chunks[-1] = (style, text + piece[1], width_of + piece[2])
            else:
                chunks.append(piece)
            used += piece[2]
        gap = space
    if chunks:
        lines.append(_Line(chunks, used, False))
    if plain_spaces:
        return [_Line([(style, text.replace("\u00a0", " "), units) for style, text, units in line.chunks],
                      line.units, line.wrapped) for line in lines]
    return lines


def _put(pdf: FPDF, line: _Line, x: float, y: float, width: float, height: float, size: float,
         align: str = "L") -> None:
    """Draw ``line`` where ``cell(width, height, align=align)`` at (x, y) puts its text: 1 mm (``c_margin``)
    inside the left or right edge, or centred; ``"J"`` stretches the spaces of a wrapped line to fill the
    width less the margins, as multi_cell does. Does not move the current position."""
    if not line.chunks:
        return
    k = pdf.k
    margin = pdf.c_margin
    text_w = _mm(line.units, size, k)
    if align == "R":
        left = x + width - margin - text_w
    elif align == "C":
        left = x + (width - text_w) / 2
    else:
        left = x + margin
    base = y + 0.5 * height + 0.3 * size / k
    spacing = 0.0
    if align == "J" and line.wrapped:
        gaps = sum(text.count(" ") + text.count("\u00a0") for _, text, _ in line.chunks)
        if gaps:
            spacing = (width - 2 * margin - text_w) / gaps
    current = None
    for style, text, units in line.chunks:
        if style != current:
            pdf.set_font(FONT, style, size)
            current = style
        if not spacing:
            pdf.text(left, base, text)
            left += _mm(units, size, k)
            continue
        for part in _GAPS.split(text):
            if part in (" ", "\u00a0"):
                left += _mm(_units(part, style), size, k) + spacing
            elif part:
                pdf.text(left, base, part)
                left += _mm(_units(part, style), size, k)


def _draw(pdf: FPDF, lines: Sequence[_Line], x: float, width: float, height: float, size: float,
          align: str = "L") -> None:
    """Draw ``lines`` from the current y, one every ``height`` mm, each as :func:`_put` in a ``width`` box at
    ``x``; a line that would cross the bottom margin goes to a new page first (never in the footer). Draws at
    least one line, even empty, like multi_cell; leaves y under the last line and x at the left margin."""
    for line in lines or (_EMPTY,):
        if pdf.will_page_break(height):
            pdf.add_page()
        y = pdf.get_y()
        _put(pdf, line, x, y, width, height, size, align)
        pdf.set_y(y + height)


class _Letter(fonts.UnicodePDF):
    footer_lines: Sequence[_Line] = ()

    def footer(self) -> None:
        """The ``<footer>`` text, centred in small grey type 14 mm above the bottom of every page."""
        if not self.footer_lines:
            return
        self.set_y(-14)
        self.set_text_color(*_GRAY)
        _draw(self, self.footer_lines, self.l_margin, self.w - self.r_margin - self.l_margin, 3.4, 7.5, "C")
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
        pdf.set_margins(MARGIN, 15, MARGIN)
        pdf.set_auto_page_break(True, margin=20)
        pdf.set_creator("relance")
        pdf.set_author(pdf_text(ctx.company.name))
        pdf.set_title(pdf_text(_clean(self.root.get("title", "")) or ctx.step))
        noon = dt.datetime.combine(ctx.letter_date, dt.time(12, 0), tzinfo=ZoneInfo("Europe/Paris"))
        pdf.set_creation_date(noon)
        footer = self.root.find("footer")
        if footer is not None:
            text = pdf_text(_clean(footer.text).strip())
            pdf.footer_lines = _wrap([("", text)], 7.5, pdf.epw - 2 * pdf.c_margin, pdf.k, plain_spaces=True)
        self.pdf = pdf
        self.header_bottom = 0.0

    def _block(self, runs: Sequence[Run], size: float, height: float, align: str) -> None:
        """Text wrapped from the current position to the right margin, as ``multi_cell(0, height, align=align,
        new_x="LMARGIN", new_y="NEXT")`` draws it."""
        pdf = self.pdf
        x = pdf.get_x()
        width = pdf.w - pdf.r_margin - x
        _draw(pdf, _wrap(runs, size, width - 2 * pdf.c_margin, pdf.k, plain_spaces=True), x, width, height, size,
              align)

    # --- blocks -------------------------------------------------------------------------------------
    def _lines(self, element: ET.Element, x: float, y: float, width: float, size: float = 10) -> float:
        """Each ``<line>`` wrapped within ``width`` mm at ``x`` from ``y`` (bold lines 1 pt larger); the y
        under the block."""
        pdf = self.pdf
        pdf.set_xy(x, y)
        inner = width - 2 * pdf.c_margin
        for line in element.iter("line"):
            bold = line.get("b") == "1"
            style, line_size = ("B", size + 1) if bold else ("", size)
            runs = [(style, pdf_text(_clean(line.text).strip()))]
            _draw(pdf, _wrap(runs, line_size, inner, pdf.k, plain_spaces=True), x, width, LINE, line_size)
        return pdf.get_y()

    def _from(self, element: ET.Element) -> None:
        bottom = self._lines(element, MARGIN, 15, 85, size=9)
        self.header_bottom = max(self.header_bottom, bottom)

    def _title(self) -> None:
        title = _clean(self.root.get("title", "")).strip()
        if title:
            pdf = self.pdf
            lines = _single("B", pdf_text(title))
            _put(pdf, lines[0], 110, 15, 80, 6, 12, "R")
            pdf.set_xy(110 + 80, 15)

    def _to(self, element: ET.Element) -> None:
        bottom = self._lines(element, 110, 45, 80, size=10)
        self.header_bottom = max(self.header_bottom, bottom)

    def _dateline(self, element: ET.Element) -> None:
        pdf = self.pdf
        pdf.set_xy(MARGIN, max(self.header_bottom + 6, 78))
        _draw(pdf, _single("", pdf_text(_clean(element.text).strip())), MARGIN, CONTENT_W, LINE, 10, "R")
        pdf.ln(4)

    def _note(self, element: ET.Element) -> None:
        self._block([("I", pdf_text(_clean(element.text).strip()))], 9, 4.2, "J")
        self.pdf.ln(1.5)

    def _subject(self, element: ET.Element) -> None:
        self._block([("B", pdf_text(_clean("".join(element.itertext())).strip()))], 10.5, 5, "J")
        self.pdf.ln(3)

    def _paragraph(self, element: ET.Element, size: float = 10, line: float = LINE) -> None:
        """A paragraph, wrapped at the content width, ``<b>``/``<i>`` runs kept, left aligned."""
        pdf = self.pdf
        runs: list[Run] = [("", pdf_text(_clean(element.text)))]
        for child in element:
            style = "B" if child.tag == "b" else "I" if child.tag == "i" else ""
            runs.append((style, pdf_text(_clean("".join(child.itertext())))))
            runs.append(("", pdf_text(_clean(child.tail))))
        _draw(pdf, _wrap(runs, size, CONTENT_W, pdf.k), MARGIN, CONTENT_W, line, size)
        pdf.ln(1.8)

    def _small(self, element: ET.Element) -> None:
        self.pdf.set_text_color(*_GRAY)
        self._paragraph(element, size=8, line=3.6)
        self.pdf.set_text_color(0, 0, 0)

    def _fit(self, text: str, width: float, style: str, size: float) -> str:
        """``text`` if it fits in a ``width`` mm cell (1.5 mm spare), else its longest prefix that still fits
        with an ellipsis after it (the ellipsis alone if none does)."""
        k = self.pdf.k
        limit = width - 1.5
        table = _widths(style)
        if _mm(sum(map(table.__getitem__, text)), size, k) <= limit:
            return text
        used = table["…"]
        keep = 0
        for char in text:
            if _mm(used + table[char], size, k) > limit:
                break
            used += table[char]
            keep += 1
        return text[:keep] + "…"

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
        step = size * 0.42  # between the lines of a cell that wraps
        for row in rows:
            kind = row.get("kind", "")
            style = "B" if kind in ("head", "total") else ""
            pdf.set_font(FONT, style, size)
            fill = kind == "head"
            if fill:
                pdf.set_fill_color(232, 232, 232)
            cells: list[tuple[float, str, list[_Line]]] = []
            column = 0
            for cell in row.findall("td"):
                span = max(1, int(cell.get("span", "1")))
                width = sum(widths[column:column + span])
                column += span
                if width <= 0:
                    break
                align = _ALIGNS.get(cell.get("align", "L").upper())
                if align is None:
                    raise RelanceError(f"unknown table cell alignment {cell.get('align')!r}", self.where)
                text = pdf_text(_clean("".join(cell.itertext())).strip())
                # a cell wraps (a header, a long reference) rather than losing the end of its text
                cells.append((width, align, _wrap([(style, text)], size, width - 2 * pdf.c_margin, pdf.k,
                                                  plain_spaces=True)))
            lines = max((len(laid) for _, _, laid in cells), default=1)
            row_h = height + max(0, lines - 1) * step
            if pdf.will_page_break(row_h):
                pdf.add_page()
            x, y = MARGIN, pdf.get_y()
            for width, align, laid in cells:
                pdf.rect(x, y, width, row_h, style="DF" if fill else "D")
                for index, line in enumerate(laid):
                    _put(pdf, line, x, y + index * step, width, height, size, align)
                x += width
            pdf.ln(row_h)
        pdf.ln(3)

    def _payment(self, element: ET.Element) -> None:
        """The framed payment block; its lines wrap (a long reference is never cut), the QR code on the right."""
        pdf = self.pdf
        show_qr = self.qr is not None and element.get("qr", "1") != "0"
        text_w = CONTENT_W - (QR_SIZE + 8 if show_qr else 4)
        laid: list[tuple[_Line, float]] = []
        for line in element.findall("line"):
            style, size = ("B" if line.get("b") == "1" else ""), 9.5
            text = pdf_text(_clean("".join(line.itertext())).strip())
            laid.extend((piece, size) for piece in _wrap([(style, text)], size, text_w - 2 * pdf.c_margin, pdf.k,
                                                          plain_spaces=True))
        height = max(len(laid) * LINE + 4, QR_SIZE + 4 if show_qr else 0)
        if pdf.will_page_break(height):
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_draw_color(120, 120, 120)
        pdf.set_line_width(0.3)
        pdf.rect(MARGIN, top, CONTENT_W, height)
        y = top + 2
        for piece, size in laid:
            _put(pdf, piece, MARGIN + 3, y, text_w, LINE, size)
            y += LINE
        if show_qr and self.qr is not None:
            # A greyscale image straight from the QR matrix: no PNG to encode and decode again.
            pdf.image(epc_image(self.qr, scale=QR_SCALE), x=MARGIN + CONTENT_W - QR_SIZE - 2, y=top + 2,
                      w=QR_SIZE, h=QR_SIZE)
        pdf.set_xy(MARGIN, top + height)
        pdf.ln(4)

    def _sign(self, element: ET.Element) -> None:
        pdf = self.pdf
        if pdf.will_page_break(14):
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
