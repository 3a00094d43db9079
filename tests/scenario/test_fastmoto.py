"""The simulator's moto speed-ups change how fast a season runs, never what it does."""

from __future__ import annotations

from pathlib import Path

import pytest

from relance_dev.simulate import fastmoto
from relance_dev.simulate.runner import run_season
from relance_dev.simulate.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]


def _strip_files(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in line.items() if k != "file"} for line in lines]


def test_a_season_logs_the_same_with_and_without_the_speedups(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario(REPO / "events" / "scenarios" / "escalation.yaml", base=REPO)
    monkeypatch.setenv("RELANCE_FASTMOTO_CHECK", "1")
    fastmoto.MISMATCHES.clear()
    fast = run_season(scenario, tmp_path / "fast")
    assert fastmoto.MISMATCHES == []
    monkeypatch.setenv("RELANCE_SIM_PLAIN_MOTO", "1")
    plain = run_season(scenario, tmp_path / "plain")
    assert len(fast.lines) > 15
    assert _strip_files(fast.lines) == _strip_files(plain.lines)
