"""The benchmarks run end to end in their tiny mode and write every figure (speed is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:          # `bench` is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))


@pytest.mark.slow
def test_bench_smoke_writes_every_key(tmp_path: Path) -> None:
    from bench.run import GOALS

    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["mode"] == "smoke"
    assert set(doc["results"]) == set(GOALS)
    for key, entry in doc["results"].items():
        assert {"value", "unit", "goal", "met", "note"} <= set(entry), key
    # Every figure is measured in smoke mode except the layer zip (no pip in the tiny run).
    missing = {k for k, e in doc["results"].items() if e["value"] is None}
    assert missing <= {"layer_zip_mb"}, missing
    assert doc["results"]["planner_items_read_not_due"]["value"] == 0
    assert set(doc["details"]["cost"]["books"]) == {"1000", "10000", "100000", "1000000"}
    for line in ("key", "engine_invoices_per_s", "cost_usd_per_1000_invoices_month", "monthly cost by book"):
        assert line in proc.stdout


def test_goals_and_table() -> None:
    from bench.run import GOALS, Goal, table

    assert Goal(">=", 10).met(12) is True
    assert Goal("<=", 1.1).met(1.2) is False
    assert Goal("", None).met(5) is None
    doc = {"results": {k: {"value": 1.0, "unit": "u", "goal": str(g), "met": g.met(1.0), "note": ""}
                       for k, g in GOALS.items()}, "details": {}}
    text = table(doc)
    assert all(k in text for k in GOALS)
