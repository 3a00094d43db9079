"""``relance simulate SCENARIO.yaml --out DIR``: a season on the embedded AWS, its log, its report."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from relance_dev.simulate.report import OWED, from_season, messages_by_step, money, render_report
from relance_dev.simulate.runner import SeasonResult, run_season
from relance_dev.simulate.scenario import ScenarioError, load_scenario


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="replay a season day by day through the real handlers on the embedded AWS",
        description="Replay a season (scenario YAML) through the real handlers on an in-process AWS; writes "
                    "DIR/log.jsonl, DIR/sent/ and DIR/report.html.")
    parser.add_argument("scenario", type=Path, help="scenario file (relative paths in it resolve from here)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--lang", choices=("fr", "en"), default="fr", help="language of report.html (default fr)")
    parser.set_defaults(func=main)


class Progress:
    """A plain progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, day: dt.date) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // max(total, 1)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days  {day}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def summary(result: SeasonResult) -> str:
    """The table printed at the end: messages per step and channel, amounts, hand-offs."""
    rows = messages_by_step(result.lines)
    width = max([len(s) for s, _, _ in rows] + [14])
    out = [f"{'step':<{width}}  {'channel':<7}  {'messages':>8}", f"{'-' * width}  {'-' * 7}  {'-' * 8}"]
    out += [f"{s:<{width}}  {c:<7}  {n:>8}" for s, c, n in rows]
    out.append(f"{'total':<{width}}  {'':<7}  {sum(n for _, _, n in rows):>8}")
    invoiced = sum((f.amount for f in result.invoices.values() if f.valid), Decimal("0"))
    recovered = sum((a for _, _, a in result.payments), Decimal("0"))
    outstanding = sum((f.balance for f in result.invoices.values()
                       if f.valid and f.status in OWED), Decimal("0"))
    written_off = sum((f.balance for f in result.invoices.values()
                       if f.valid and f.status == "written_off"), Decimal("0"))
    deciding = sum((f.balance for f in result.invoices.values()
                    if f.valid and f.status == "open" and f.to_decide), Decimal("0"))
    counts = {k: sum(1 for e in result.lines if e["kind"] == k)
              for k in ("handed_off", "approval_requested", "approved", "rejected", "approval_expired",
                        "quarantined", "flagged")}
    out += ["",
            f"invoices          {sum(1 for f in result.invoices.values() if f.valid)} "
            f"(+{sum(1 for f in result.invoices.values() if not f.valid)} bad invoice records; the "
            f"quarantined count below also has customers)",
            f"invoiced          {money(invoiced)}",
            f"recovered         {money(recovered)}",
            f"written off       {money(written_off)}",
            f"outstanding       {money(outstanding)} (to decide {money(deciding)})",
            f"cases handed off  {counts['handed_off']} (approvals requested {counts['approval_requested']}, "
            f"approved {counts['approved']}, rejected {counts['rejected']}, expired {counts['approval_expired']})",
            f"quarantined       {counts['quarantined']}",
            f"flagged           {counts['flagged']}",
            f"season            {result.scenario.start} -> {result.scenario.end} in {result.seconds:.1f} s"]
    return "\n".join(out)


def write_report(result: SeasonResult, lang: str = "fr") -> Path:
    path = result.out / "report.html"
    path.write_text(render_report(from_season(result), lang), encoding="utf-8")
    return path


def main(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        for text in exc.errors:
            print(text, file=sys.stderr)
        return 2
    if args.out.exists() and not args.out.is_dir():
        print(f"relance: {args.out}: exists and is not a folder (--out names the output folder)", file=sys.stderr)
        return 2
    result = run_season(scenario, args.out, Progress())
    report = write_report(result, getattr(args, "lang", "fr"))
    print(summary(result))
    print(f"\nlog:    {result.log_path}")
    print(f"report: {report}")
    return 0
