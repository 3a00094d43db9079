"""Seasons run once per session through the runner (not the CLI): the tests read their log.jsonl."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from relance_dev.simulate.runner import SeasonResult, run_season
from relance_dev.simulate.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def season(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], SeasonResult]:
    """``season("basic")`` runs events/scenarios/basic.yaml once per session and returns its result."""
    cache: dict[str, SeasonResult] = {}

    def run(name: str) -> SeasonResult:
        if name not in cache:
            path = REPO / "events" / "scenarios" / f"{name}.yaml"
            cache[name] = run_season(load_scenario(path, base=REPO), tmp_path_factory.mktemp(name))
        return cache[name]

    return run
