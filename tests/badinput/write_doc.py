"""Regenerate the catalogue table of docs/hardening.md from tests/badinput/catalogue.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from catalogue import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "hardening.md"
START, END = "<!-- catalogue:start -->\n", "<!-- catalogue:end -->"


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + START + markdown_table() + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
