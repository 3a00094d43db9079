"""The base font programs the layer build writes (relance/rendering/font_program.py): a letter rendered with
them is byte for byte the letter rendered without them, and a program that does not match the font, the
glyphs or fontTools is never used."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_templates import make_ctx

from relance.rendering import font_program, fonts, render_pdf


@pytest.fixture
def shipped_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The package's fonts copied to a folder where the build's base programs are written, as in the layer."""
    folder = tmp_path / "fonts"
    shutil.copytree(fonts.font_path("").parent, folder)
    font_program.write_base_programs(folder)
    monkeypatch.setattr(fonts, "font_path", lambda style: folder / fonts.FILES[style])
    fonts._program.cache_clear()
    yield folder
    fonts._program.cache_clear()


def _letters() -> list[bytes]:
    return [render_pdf(step, make_ctx(step=step)) for step in ("formal_notice", "firm")]


def test_a_letter_is_the_same_with_or_without_the_shipped_programs(shipped_fonts: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    real = font_program.shipped

    def spy(path: Path, data: bytes, names: frozenset[str]) -> tuple[bytes, dict[str, int]] | None:
        found = real(path, data, names)
        used.append(f"{path.name}:{found is not None}")
        return found

    monkeypatch.setattr(font_program, "shipped", spy)
    with_programs = _letters()
    assert used and all(u.endswith(":True") for u in used), used      # the letters took the shipped programs
    fonts._program.cache_clear()
    monkeypatch.setattr(font_program, "shipped", lambda *args: None)
    assert _letters() == with_programs


def test_a_program_for_other_glyphs_or_another_fonttools_is_not_used(shipped_fonts: Path) -> None:
    path = shipped_fonts / fonts.FILES[""]
    data = path.read_bytes()
    names = font_program.base_names(data)
    assert font_program.shipped(path, data, names) is not None
    assert font_program.shipped(path, data, names | {"Lslash"}) is None                # other glyphs
    stored = Path(f"{path}{font_program.SUFFIX}")
    document = json.loads(stored.read_text(encoding="utf-8"))
    stored.write_text(json.dumps({**document, "key": document["key"].replace("fontTools ", "fontTools 0.")}),
                      encoding="utf-8")
    assert font_program.shipped(path, data, names) is None                              # another fontTools
    stored.write_text("not json", encoding="utf-8")
    assert font_program.shipped(path, data, names) is None


def test_the_base_glyphs_are_what_fonts_and_the_build_both_compute() -> None:
    for style, name in fonts.FILES.items():
        assert fonts._base_names(style) == font_program.base_names(fonts.font_bytes(style)), name
