"""A season of 1,000 invoices over 90 days (make test-slow); prints its wall time.

Run by hand: ``.venv/bin/python tests/scenario/test_large_season.py [INVOICES] [OUT]``.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START = dt.date(2026, 3, 30)
DAYS = 90


def large_scenario(invoices: int = 1000, seed: int = 7) -> str:
    """A deterministic scenario: ~3 invoices per customer, due dates over the season, 60 % paid on the way."""
    rng = random.Random(seed)
    customers = max(invoices // 3, 1)
    out = [f"start: {START}", f"end: {START + dt.timedelta(days=DAYS - 1)}", "policy: policies/standard.yaml",
           "customers:"]
    for c in range(customers):
        kind = "b2c" if c % 10 == 0 else "b2b"
        out.append(f'  - {{id: C{c:04d}, name: "Client {c}", kind: {kind}, email: c{c}@client.example, '
                   f'phone: "+3361234{c % 10000:04d}", address: "{c} rue Exemple, 69003 Lyon"}}')
    out.append("invoices:")
    events = []
    for i in range(invoices):
        due = START + dt.timedelta(days=rng.randrange(-20, 60))
        amount = rng.choice(("85.00", "320.00", "960.00", "1800.00", "4200.00"))
        out.append(f'  - {{id: I{i:05d}, customer: C{i % customers:04d}, issued: {due - dt.timedelta(days=30)}, '
                   f'due: {due}, amount: "{amount}"}}')
        if rng.random() < 0.6:
            paid = due + dt.timedelta(days=rng.randrange(-5, 35))
            if START <= paid < START + dt.timedelta(days=DAYS):
                events.append(f'  - {{date: {paid}, type: payment, invoice: I{i:05d}, amount: "{amount}"}}')
    out += ["events:", *events]
    return "\n".join(out) + "\n"


def run(invoices: int, out: Path) -> tuple[float, int]:
    from relance_dev.simulate.runner import run_season
    from relance_dev.simulate.scenario import load_scenario

    path = out / "large.yaml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(large_scenario(invoices), encoding="utf-8")
    started = time.perf_counter()
    result = run_season(load_scenario(path, base=REPO), out / "season")
    print("  ".join(f"{k}: {v:.0f} s" for k, v in sorted(result.timings.items(), key=lambda kv: -kv[1])))
    return time.perf_counter() - started, len(result.lines)


@pytest.mark.slow
def test_a_thousand_invoices_keep_every_invariant(tmp_path: Path) -> None:
    from season_checks import check_all

    from relance_dev.simulate.log import read_log
    from relance_dev.simulate.scenario import load_scenario

    seconds, lines = run(1000, tmp_path)
    print(f"\n1000 invoices x {DAYS} days: {seconds:.0f} s, {lines} log lines")
    policy = load_scenario(tmp_path / "large.yaml", base=REPO).policy
    check_all(read_log(tmp_path / "season" / "log.jsonl"), policy)
    # The time is printed, not asserted (speed belongs to measurements, see README "Measured": about 240 s).


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("out/large")
    took, n = run(count, target)
    print(f"{count} invoices x {DAYS} days: {took:.1f} s, {n} log lines")
