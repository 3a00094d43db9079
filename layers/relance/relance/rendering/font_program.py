"""The font program a PDF embeds: a DejaVu style reduced to some glyphs with fontTools, and the base
programs the layer build computes ahead of time.

Nearly every letter embeds the same program per style, the base glyphs (:data:`BASE_CHARS`); subsetting
it costs a container's first letter ~30 ms per style. ``layers/relance/Makefile`` runs this file as a
script to write ``<style file>.base.json`` next to each font: the subset's bytes and glyph ids, keyed by
the fontTools version, the font file and the glyph names. :func:`shipped` returns them only when the key
matches what this process would compute, so a letter's bytes never depend on whether the file is there.

Only fontTools here (no fpdf2, no relance import): the build runs it with the layer's own fontTools.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
from collections.abc import Iterable
from pathlib import Path

BASE_CHARS = (
    "".join(chr(c) for c in range(0x20, 0x7F))
    + "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»€’‘“”…–—°§·\u00a0\u202f"
)
"""Glyphs every embedded font program holds, so that most letters share one cached subset per style
(``·`` is in every letter's footer)."""
BASE_GLYPHS = (".notdef",)
"""Glyph names every document's subset lists whatever its text (fpdf2 maps code 0 to .notdef)."""
FONT_FILES = ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed-Oblique.ttf")
SUFFIX = ".base.json"
DROPPED_TABLES = ("FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "kern")


def subset(font_data: bytes, names: Iterable[str]) -> tuple[bytes, dict[str, int]]:
    """The font reduced to ``names`` (and the glyphs fontTools adds: .notdef, space ...), as the TrueType
    bytes and the glyph id of each name in it. The options are fpdf2's."""
    from fontTools import subset as ftsubset
    from fontTools import ttLib

    wanted = sorted(names)
    font = ttLib.TTFont(io.BytesIO(font_data), recalcTimestamp=False, lazy=True)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += list(DROPPED_TABLES)
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(glyphs=wanted)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue(), {name: font.getGlyphID(name) for name in wanted}


def base_names(font_data: bytes) -> frozenset[str]:
    """The glyph names of :data:`BASE_CHARS` in the font (its best Unicode cmap, as fpdf2 reads it)."""
    from fontTools import ttLib

    cmap = ttLib.TTFont(io.BytesIO(font_data), lazy=True).getBestCmap()
    return frozenset(cmap[ord(char)] for char in BASE_CHARS if ord(char) in cmap) | frozenset(BASE_GLYPHS)


def key(font_data: bytes, names: Iterable[str]) -> str:
    """What a precomputed program depends on: the fontTools version, the font file, the glyph names,
    and the subset options."""
    import fontTools

    digest = hashlib.sha256(font_data)
    digest.update("\n".join(sorted(names)).encode())
    digest.update(" ".join(DROPPED_TABLES).encode())
    return f"fontTools {fontTools.version} {digest.hexdigest()}"


def shipped(font_path: Path, font_data: bytes, names: frozenset[str]) -> tuple[bytes, dict[str, int]] | None:
    """The precomputed program of ``names`` next to ``font_path``, if there is one for exactly these
    names, this font file and this fontTools; else None (the caller subsets)."""
    path = font_path.with_name(font_path.name + SUFFIX)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key(font_data, names):
        return None
    gids = stored.get("gids")
    if not isinstance(gids, dict) or set(gids) != names:
        return None
    return base64.b64decode(stored["program"]), {str(name): int(gid) for name, gid in gids.items()}


def write_base_programs(folder: Path) -> list[Path]:
    """Write ``<font>.base.json`` for every font of :data:`FONT_FILES` in ``folder``."""
    written = []
    for name in FONT_FILES:
        font_path = folder / name
        data = font_path.read_bytes()
        names = base_names(data)
        program, gids = subset(data, names)
        out = font_path.with_name(name + SUFFIX)
        out.write_text(json.dumps({"key": key(data, names), "gids": gids,
                                   "program": base64.b64encode(program).decode("ascii")}), encoding="utf-8")
        written.append(out)
    return written


if __name__ == "__main__":      # python font_program.py FOLDER (layers/relance/Makefile)
    for written_path in write_base_programs(Path(sys.argv[1])):
        print(written_path)
