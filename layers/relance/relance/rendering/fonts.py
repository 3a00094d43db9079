"""The Unicode TrueType font of the PDF letters and case files: DejaVu Sans Condensed, shipped in
``relance/data/fonts``.

The PDF core fonts only know Windows-1252: « Łukasz Wiśniewski, ul. Długa 5 » came out as « ?ukasz ... ».
DejaVu Sans covers Latin (Polish, Czech, Turkish, Vietnamese ...), Greek, Cyrillic and the symbols a letter
meets (``€ ≤ … « »``). fpdf2 embeds only the glyphs a document uses (a subset).

Speed. Loading a TrueType font and subsetting it with fontTools costs ~40 ms per font and per document,
which would bring letters from ~160/s down to ~7/s. So:

- each style is parsed once per process (:func:`_prototype`) and every document gets a cheap copy;
- the font program embedded in a document always holds a base set of glyphs (ASCII, the French letters
  and signs) plus whatever else the document uses: nearly every letter embeds the same program, which is
  subset and compressed once per process (:func:`_program`); the base program of each style is computed
  when the layer is built (:mod:`relance.rendering.font_program`), so a container's first letter does not
  subset it. The document's own tables (widths, Unicode map) still list only the glyphs it uses.
  :class:`UnicodePDF` writes these font objects itself (:class:`_Producer`), the rest of the file is fpdf2's.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import fpdf.output as fpdf_output
from fpdf import FPDF
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont
from fpdf.syntax import Name, PDFArray, PDFContentStream

from relance.rendering import font_program
from relance.rendering.font_program import BASE_CHARS, BASE_GLYPHS

FAMILY = "dejavu"
FILES = {"": "DejaVuSansCondensed.ttf", "B": "DejaVuSansCondensed-Bold.ttf", "I": "DejaVuSansCondensed-Oblique.ttf"}
SUBSET_CACHE = 64


def font_path(style: str) -> Path:
    """The TrueType file of ``style`` (``""``, ``"B"`` or ``"I"``) in the package data."""
    return Path(str(resources.files("relance").joinpath("data", "fonts", FILES[style])))


@cache
def font_bytes(style: str) -> bytes:
    return font_path(style).read_bytes()


@cache
def _prototype(style: str) -> TTFFont:
    """The font parsed once (metrics, cmap); documents get copies of it."""
    holder = FPDF()
    holder.add_font(FAMILY, style, font_path(style))
    font = holder.fonts[FAMILY + style]
    assert isinstance(font, TTFFont)
    font.ttfont.close()
    font.ttfont = None  # never subset the shared parsed font in place
    return font


class _Widths(dict[str, int]):
    """Advance widths per 1000 em by character; a character the font lacks is measured as ``.notdef``."""

    missing = 0

    def __missing__(self, char: str) -> int:
        return self.missing


@cache
def widths(style: str) -> _Widths:
    """Glyph widths of ``style`` keyed by character, as fpdf2 draws them (``TTFFont.cw``)."""
    font = _prototype(style)
    table = _Widths({chr(code): int(width) for code, width in font.cw.items()})
    table.missing = int(font.desc.missing_width)
    return table


def has_glyph(char: str, style: str = "") -> bool:
    return ord(char) in _prototype(style).cmap


@cache
def _base_names(style: str) -> frozenset[str]:
    cmap = _prototype(style).cmap
    return frozenset(cmap[ord(char)] for char in BASE_CHARS if ord(char) in cmap) | frozenset(BASE_GLYPHS)


@lru_cache(maxsize=SUBSET_CACHE)
def _program(style: str, names: frozenset[str]) -> tuple[bytes, int, dict[str, int]]:
    """The font program reduced to ``names`` (and the glyphs fontTools adds: .notdef, space ...), as its
    compressed bytes, its length and the glyph id of each name in it. The options are fpdf2's.

    The base program (``names`` is exactly :func:`_base_names`) comes from the layer build when it shipped
    one for this font and this fontTools (the same bytes, computed ahead of time)."""
    found = font_program.shipped(font_path(style), font_bytes(style), names) if names == _base_names(style) \
        else None
    data, gids = found if found is not None else font_program.subset(font_bytes(style), names)
    return zlib.compress(data, level=PDFContentStream._COMPRESSION_LEVEL), len(data), gids


class _FontFile(PDFContentStream):
    """The embedded font program (``FontFile2``), already compressed."""

    def __init__(self, compressed: bytes, length: int) -> None:
        super().__init__(b"")
        self._contents = compressed
        self.filter = Name("FlateDecode")
        self.length = len(compressed)
        self.length1 = length


def _to_unicode(pairs: Iterable[tuple[int, tuple[int, ...]]]) -> bytes:
    """The ToUnicode CMap: which characters each 2-byte code stands for (text search, copy, extraction)."""
    entries = [f"<{code:04X}> <{''.join(_utf16(u) for u in unicode)}>\n" for code, unicode in pairs]
    blocks = "".join(f"{len(entries[i:i + 100])} beginbfchar\n{''.join(entries[i:i + 100])}endbfchar\n"
                     for i in range(0, len(entries), 100))
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
            "<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n"
            "/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend").encode("latin-1")


def _utf16(code: int) -> str:
    if code > 0xFFFF:
        code -= 0x10000
        return f"{0xD800 | code >> 10:04X}{0xDC00 | (code & 0x3FF):04X}"
    return f"{code:04X}"


class _Face:
    """Stands for the fontTools font of a document's copy (never subset in place: :class:`_Producer`)."""

    def __init__(self, style: str) -> None:
        self.style = style

    def close(self) -> None:
        return None


class _Producer(OutputProducer):
    """fpdf2's writer, except for the DejaVu fonts, which :meth:`_add_unicode_font` embeds.

    Same objects as fpdf2 (Type0 font, CIDFontType2, descriptor, ToUnicode, CIDToGIDMap, FontFile2), with
    the font program taken from :func:`_program` and a CIDToGIDMap only as long as the highest code used
    (fpdf2 always writes 128 KiB)."""

    def _add_fonts(self, *args: Any, **kwargs: Any) -> dict[int, Any]:
        fonts = self.fpdf.fonts
        ours = {key: font for key, font in fonts.items()
                if isinstance(font, TTFFont) and isinstance(font.ttfont, _Face)}
        for key in ours:
            del fonts[key]
        try:
            objects: dict[int, Any] = super()._add_fonts(*args, **kwargs)
        finally:
            fonts.update(ours)
        for font in sorted(ours.values(), key=lambda f: f.i):
            objects[font.i] = self._add_unicode_font(font)
        return objects

    def _add_unicode_font(self, font: TTFFont) -> PDFFont:
        style = font.ttfont.style
        used = [(glyph, code) for glyph, code in font.subset.items() if glyph is not None]
        compressed, length, gids = _program(style, frozenset(g.glyph_name for g, _ in used) | _base_names(style))
        name = f"MPDFAA+{font.name}"
        composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(subtype="CIDFontType2", base_font=name, d_w=font.desc.missing_width,
                           w=fpdf_output._cid_font_widths({code: g.glyph_width for g, code in used}))
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        to_unicode = PDFContentStream(_to_unicode(
            (code, g.unicode) for g, code in used if isinstance(g.unicode, tuple) and g.unicode))
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode
        system_info = CIDSystemInfo()
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info
        descriptor = copy.copy(font.desc)
        descriptor.font_name = Name(name)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        top = max((code for _, code in used), default=0)
        mapping = bytearray(2 * (top + 1))
        for glyph, code in used:
            gid = gids[glyph.glyph_name]
            mapping[2 * code], mapping[2 * code + 1] = gid >> 8, gid & 0xFF
        cid_map = PDFContentStream(bytes(mapping), compress=len(mapping) > 256)
        self._add_pdf_obj(cid_map, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_map
        program = _FontFile(compressed, length)
        self._add_pdf_obj(program, "fonts")
        descriptor.font_file2 = program  # type: ignore[attr-defined]
        return composite


class _DocumentFont(TTFFont):
    """A document's copy of the font; only :meth:`encode_text` differs (same slots, so the class can be
    swapped on a copy of the prototype)."""

    __slots__ = ()

    def encode_text(self, text: str) -> str:
        """fpdf2's encoding (each character replaced by its code in the document's subset), with the codes
        kept per document: fpdf2 looks each character up through a memoized method, several times slower."""
        codes: dict[int, str] = self.subset.__dict__.setdefault("_codes", {})
        for code in set(map(ord, text)).difference(codes):
            mapped = self.subset.pick(code)
            codes[code] = chr(mapped) if mapped is not None else ""
        return f"({self.escape_text(text.translate(codes))}) Tj"


def install(pdf: FPDF, style: str) -> None:
    """Give ``pdf`` its own copy of the font of ``style`` (idempotent)."""
    key = FAMILY + style
    if key in pdf.fonts:
        return
    font = copy.copy(_prototype(style))
    font.__class__ = _DocumentFont
    font.i = len(pdf.fonts) + 1
    font.ttfont = _Face(style)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    pdf.fonts[key] = font


class UnicodePDF(FPDF):
    """An FPDF whose ``dejavu`` family is the shipped DejaVu Sans Condensed, installed on first use."""

    def set_font(self, family: str | None = None, style: Any = "", size: float = 0) -> None:
        if family == FAMILY and not (isinstance(style, str) and FAMILY + style in self.fonts):
            install(self, TextEmphasis.coerce(style).style.replace("U", ""))
        if (family == self.font_family and style == self.font_style and size == self.font_size_pt
                and self.current_font is not None):
            return  # fpdf2's own test for this costs more than the rest of the call
        super().set_font(family, style, size)

    def output(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("output_producer_class", _Producer)
        try:
            return super().output(*args, **kwargs)
        finally:
            # fpdf2 memoizes these per SubsetMap in class-wide caches: without this, every letter's map
            # would stay in memory for the life of the process.
            SubsetMap.pick.cache_clear()
            SubsetMap.get_glyph.cache_clear()
