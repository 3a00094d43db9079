"""``relance bank import --dry-run`` needs no table; bad files exit 2 with one line naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from bank_samples import camt, cfonb

from relance.cli import main


def test_dry_run_without_a_table_parses_and_books_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    path = tmp_path / "releve.xml"
    path.write_bytes(camt())
    assert main(["bank", "import", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "camt.053.001.08, 6 entries (dry run: nothing booked)" in out and "2026050400003" in out


@pytest.mark.parametrize(("name", "mutate", "expected"), [
    ("r.xml", lambda: camt()[:900], "r.xml:"),
    ("r.txt", lambda: cfonb().replace(b"VIREMENT AVRIL ", b"VIREMENT AVRIL", 1), "r.txt:13: line is 119"),
])
def test_bad_files_exit_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], name: str, mutate: object,
                                        expected: str) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    path = tmp_path / name
    path.write_bytes(mutate())  # type: ignore[operator]
    assert main(["bank", "import", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"relance: {tmp_path / expected}")
