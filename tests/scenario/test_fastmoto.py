"""The simulator's moto speed-ups change how fast a season runs, never what it does."""

from __future__ import annotations

import re
import tomllib
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


def test_the_patched_versions_are_the_pinned_ones() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = dict(re.match(r"([a-z0-9-]+)(?:\[[^]]*\])?==(.+)", spec).groups()   # type: ignore[union-attr]
                for spec in pyproject["project"]["optional-dependencies"]["dev"] if "==" in spec)
    assert {name: pins[name] for name in fastmoto.PINNED} == fastmoto.PINNED
    assert "cfn-lint" in pins
    fastmoto.check_patches()            # every patch applies to what make venv installed


def test_a_patch_that_cannot_apply_raises_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    def query(self: object, hash_key: object, index_name: object = None) -> None:   # another signature
        raise AssertionError("never called")

    monkeypatch.setattr(Table, "query", query)
    with pytest.raises(fastmoto.PatchError, match=r"'partition_queries'.*index_name"), fastmoto.faster_moto():
        pass
    monkeypatch.undo()
    monkeypatch.setitem(fastmoto.PINNED, "botocore", "0.0.1")
    with pytest.raises(fastmoto.PatchError, match=r"'light_client_requests'.*botocore 1\.44\.8 is installed"):
        fastmoto.check_patches()
    monkeypatch.undo()
    fastmoto.check_patches()
