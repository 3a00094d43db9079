"""Run every benchmark in one process, write bench/results.json and print it as a table.

``python -m bench.run`` (what ``make bench`` runs) measures the sizes the issue asks for (100,000 invoices
on moto); ``--quick`` uses 10,000 for the planner (its figures are ratios, they do not depend on the size)
and fewer repeats; ``--smoke`` is a tiny run that only proves the code works (used by the unit test).
Benchmarks print figures; they never fail on speed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import operator
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


@dataclass(frozen=True)
class Goal:
    """``value <op> target`` (``None`` op: a figure without a goal)."""

    symbol: str
    target: float | None

    def met(self, value: float | None) -> bool | None:
        if self.target is None or value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        ops: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le,
                                                          "==": operator.eq}
        return ops[self.symbol](value, self.target)

    def __str__(self) -> str:
        return "-" if self.target is None else f"{self.symbol} {self.target:g}"


GOALS: dict[str, Goal] = {
    "engine_invoices_per_s": Goal(">=", 100_000),
    "render_emails_per_s": Goal(">=", 1_000),
    "render_letters_pdf_per_s": Goal(">=", 100),
    "planner_items_read_not_due": Goal("==", 0),
    "planner_items_read_per_due_invoice": Goal("<=", 1.1),
    "scan_baseline_ratio": Goal(">=", 50),
    "aws_calls_per_customer_message": Goal("<=", 5),
    "dispatch_calls_per_message": Goal("<=", 4),
    "season_1000_invoices_90_days_s": Goal("<=", 90),
    "handler_cold_import_ms": Goal("<=", 200),
    "first_pdf_ms": Goal("<=", 200),
    "layer_zip_mb": Goal("<=", 21),
    "cost_usd_per_1000_invoices_month": Goal("", None),
    "max_invoices_per_daily_run": Goal("", None),
    "max_invoices_per_daily_run_in_timeout": Goal("", None),
}


@dataclass(frozen=True)
class Mode:
    name: str
    engine_invoices: int
    render_seconds: float
    render_minimum: int
    planner_invoices: int
    season_invoices: int
    season_days: int
    big_season: tuple[int, int, int]     # invoices, days, due spread (days) of the timed season
    import_repeats: int
    build_layer: bool


MODES = {
    "full": Mode("full", 100_000, 3.0, 50, 100_000, 30, 60, (1_000, 90, 60), 9, True),
    "quick": Mode("quick", 100_000, 1.5, 30, 10_000, 30, 60, (1_000, 90, 60), 5, True),
    "smoke": Mode("smoke", 1_000, 0.2, 5, 1_000, 6, 20, (10, 15, 5), 1, False),
}


def _entry(key: str, value: float | None, unit: str, note: str = "") -> dict[str, Any]:
    goal = GOALS[key]
    return {"value": value, "unit": unit, "goal": str(goal), "met": goal.met(value), "note": note}


def _timed(name: str, timings: dict[str, float], fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    try:
        return fn()
    finally:
        timings[name] = round(time.perf_counter() - started, 1)
        print(f"[bench] {name} done in {timings[name]} s", file=sys.stderr, flush=True)


def run(mode: Mode) -> dict[str, Any]:
    """Every benchmark; returns the results document."""
    from bench import cost, dispatch_calls, engine, layer, planner, render, season

    timings: dict[str, float] = {}
    results: dict[str, dict[str, Any]] = {}
    details: dict[str, Any] = {}

    # The season first: it is the first to import the handlers, so their loggers write to its byte counter.
    s = _timed("season", timings, lambda: season.run_season(mode.season_invoices, mode.season_days))
    details["season"] = s.as_dict()
    per_message = s.handler_calls / s.customer_messages if s.customer_messages else None
    daily = s.calls.get("handler:DailyRunFunction", {})
    daily_calls = sum(daily.values())
    dispatch = s.calls.get("handler:DispatchFunction", {})
    results["aws_calls_per_customer_message"] = _entry(
        "aws_calls_per_customer_message", round(per_message, 2) if per_message else None, "calls/message",
        f"{s.handler_calls} calls in the handlers for {s.customer_messages} customer messages over "
        f"{s.days} days ({s.invoices} invoices); dispatch "
        f"{sum(dispatch.values()) / max(s.customer_messages, 1):.2f}/message ("
        + ", ".join(f"{op} {n}" for op, n in dispatch.items()) + f"), daily runs {daily_calls} ("
        + ", ".join(f"{op} {n}" for op, n in daily.items()) + "; one due-index Query a day finds the due "
        "invoices and approvals, the pending list is read on Mondays, the letters' print queue listed once); "
        f"other handlers {s.handler_calls - daily_calls - sum(dispatch.values())}; event source mapping SQS "
        f"calls apart: {s.esm_calls}")

    invoices, days, spread = mode.big_season
    big = _timed("season 1000", timings, lambda: season.run_season(invoices, days, spread, fast=True))
    details["season_1000"] = big.as_dict()
    results["season_1000_invoices_90_days_s"] = _entry(
        "season_1000_invoices_90_days_s", round(big.wall_s, 1), "s",
        f"{big.invoices} invoices of {big.customers} customers due over {spread} days, {days} days, "
        f"{big.customer_messages} customer messages, {sum(big.invocations.values())} invocations "
        f"(" + ", ".join(f"{k} {v}" for k, v in big.invocations.items()) + "); "
        + ", ".join(f"{k} {v:.1f} s" for k, v in big.phase_s.items())
        + f"; {len(big.errors)} errors; simulator's moto speed-ups on (fastmoto)")
    if (invoices, days) != (1_000, 90):      # --smoke: a tiny season proves the code, it is not the goal's
        results["season_1000_invoices_90_days_s"]["met"] = None

    d = _timed("dispatch calls", timings, dispatch_calls.bench_dispatch_calls)
    details["dispatch_calls"] = d
    worst = max(v["calls"] for v in d.values())
    parts = [f"{k.replace('_', ' ')}: {v['calls']} (" + ", ".join(f"{op} {n}" for op, n in v["by_operation"].items())
             + ")" for k, v in d.items()]
    results["dispatch_calls_per_message"] = _entry(
        "dispatch_calls_per_message", worst, "calls/message",
        "; ".join(parts) + "; email only, inside DispatchFunction")

    p = _timed("planner", timings, lambda: planner.bench_planner(mode.planner_invoices))
    details["planner"] = p.as_dict()
    results["planner_items_read_not_due"] = _entry(
        "planner_items_read_not_due", p.items_read_not_due, "items",
        f"{mode.planner_invoices} invoices, {p.due_expected} due; handler reported {p.due_reported} due")
    results["planner_items_read_per_due_invoice"] = _entry(
        "planner_items_read_per_due_invoice", round(p.per_due, 3), "items/due", f"{p.queries} queries")
    results["scan_baseline_ratio"] = _entry(
        "scan_baseline_ratio", round(p.scan_ratio, 1), "x",
        f"naive Scan read {p.scan_items_read} items in {p.scan_calls} calls (META items only: a lower bound)")
    limit = 900.0
    timeout = _daily_run_timeout()
    results["max_invoices_per_daily_run"] = _entry(
        "max_invoices_per_daily_run", planner.max_book(p, limit), "invoices",
        f"1 % due; {p.items_per_s:.0f} due entries/s read, {p.messages_per_s:.0f} SQS messages/s "
        f"(moto in-process), 900 s Lambda limit")
    results["max_invoices_per_daily_run_in_timeout"] = _entry(
        "max_invoices_per_daily_run_in_timeout", planner.max_book(p, timeout), "invoices",
        f"same, within DailyRunFunction's Timeout {timeout:g} s (template.yaml)")

    e = _timed("engine", timings, lambda: engine.bench_engine(mode.engine_invoices))
    details["engine"] = e
    results["engine_invoices_per_s"] = _entry(
        "engine_invoices_per_s", round(e["invoices_per_s"]), "invoices/s",
        f"median of 3 passes over {e['invoices']} invoices; {e['due_today']} due")

    r = _timed("render", timings, lambda: render.bench_render(mode.render_seconds, mode.render_minimum))
    details["render"] = r
    results["render_emails_per_s"] = _entry(
        "render_emails_per_s", round(r["emails_per_s"], 1), "emails/s",
        f"subject+text+HTML; with the PDF that render(..., ['email']) adds: {r['emails_with_pdf_per_s']:.1f}/s")
    results["render_letters_pdf_per_s"] = _entry(
        "render_letters_pdf_per_s", round(r["letters_per_s"], 1), "letters/s",
        f"render_pdf('formal_notice'), {r['letter_pdf_bytes_mean'] / 1000:.1f} kB each")

    lay = _timed("layer", timings, lambda: layer.bench_layer(mode.import_repeats, build=mode.build_layer))
    details["layer"] = lay
    cold = lay.get("cold", {}).get("ms", {})
    slowest = max(cold, key=cold.__getitem__) if cold else None
    errors = lay.get("cold", {}).get("errors", {})
    floor = lay.get("cold", {}).get("floor", {})
    note = (f"{slowest}, median of {lay['cold'].get('repeats')} fresh interpreters (the .pyc the layer ships, "
            "LAMBDA_TASK_ROOT set: the Tracer patches botocore as in Lambda); others: "
            + ", ".join(f"{name} {ms:.0f}" for name, ms in sorted(cold.items(), key=lambda kv: -kv[1])
                        if name != slowest)
            + (f"; floor (boto3 + Powertools alone) {floor['ms']:.0f} ms in the same runs "
               f"({cold[slowest] / floor['ms']:.2f}x)" if floor.get("ms") else "")
            if slowest else "no handler imported")
    if errors:
        note += f"; import errors in {len(errors)} handler(s): {next(iter(errors.values()))}"
    results["handler_cold_import_ms"] = _entry(
        "handler_cold_import_ms", round(cold[slowest], 1) if slowest else None, "ms", note)
    pdf = lay.get("first_pdf", {})
    results["first_pdf_ms"] = _entry(
        "first_pdf_ms", round(pdf["ms"], 1) if pdf.get("ms") is not None else None, "ms",
        f"formal notice rendered in a fresh process after the dispatch handler's import (LAMBDA_TASK_ROOT set), "
        f"median of {pdf.get('repeats')}, fastest {pdf.get('min_ms') or 0:.0f} ms"
        + (f"; error: {pdf['error']}" if pdf.get("error") else ""))
    results["layer_zip_mb"] = _entry(
        "layer_zip_mb", round(lay["zip_mb"], 2) if "zip_mb" in lay else None, "MB",
        f"{lay.get('unzipped_mb', 0):.1f} MB unzipped, {lay.get('files', 0)} files" if "zip_mb" in lay
        else lay.get("zip_error", "skipped (--smoke: no pip)"))

    costs = cost.cost_table(s)
    prices = cost.load_prices()
    details["cost"] = {"books": costs, "prices_read": prices.get("read"), "prices_verified": prices.get("verified"),
                       "reminded_share": cost.REMINDED_SHARE}
    headline = costs["100000"]["aws_usd_per_1000_invoices"]
    results["cost_usd_per_1000_invoices_month"] = _entry(
        "cost_usd_per_1000_invoices_month", headline, "USD",
        "AWS only, book of 100,000 invoices/month, 30 % reminded; SMS and registered letters apart "
        "(every letter is counted registered, as PrintQueueProvider flags them; formal notices: "
        f"{costs['100000']['of_which_formal_notice']:,} of {costs['100000']['registered_letters']:,}); "
        f"prices read {prices.get('read')} (unverified)")

    return {
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": mode.name,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": _cpus()},
        "results": results,
        "details": details,
        "timings_s": timings,
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def _daily_run_timeout() -> float:
    """DailyRunFunction's Timeout in template.yaml (300 s when it cannot be read)."""
    try:
        from relance_dev.embedded.cfn import load_template

        template = load_template(HERE.parent / "template.yaml")
        return float(template["Resources"]["DailyRunFunction"]["Properties"].get("Timeout", 300))
    except Exception:
        return 300.0


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(doc: dict[str, Any]) -> str:
    """The results as a text table (key, value, goal, met?), then the monthly cost by book size."""
    rows = [("key", "value", "goal", "met?")]
    for key, entry in doc["results"].items():
        met = {True: "yes", False: "NO", None: "-"}[entry["met"]]
        rows.append((key, f"{_fmt(entry['value'])} {entry['unit']}", entry["goal"], met))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    books = doc["details"].get("cost", {}).get("books", {})
    if books:
        lines += ["", "monthly cost by book (invoices/month; AWS in USD; SMS and registered letters apart)",
                  f"{'book':>10}  {'AWS USD':>10}  {'USD/1000':>9}  {'SMS':>8}  {'SMS USD':>9}  "
                  f"{'letters':>8}  {'letters EUR':>11}"]
        for book, c in books.items():
            lines.append(f"{int(book):>10,}  {c['aws_total_usd']:>10,.2f}  {c['aws_usd_per_1000_invoices']:>9,.3f}  "
                         f"{c['sms_segments']:>8,}  {c['sms_usd']:>9,.2f}  {c['registered_letters']:>8,}  "
                         f"{c['registered_letters_eur']:>11,.2f}")
    lines += ["", "notes:"] + [f"  {k}: {e['note']}" for k, e in doc["results"].items() if e["note"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10,000 invoices for the planner, fewer repeats")
    size.add_argument("--smoke", action="store_true", help="tiny run proving the code works (tests)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    mode = MODES["smoke" if args.smoke else "quick" if args.quick else "full"]
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    doc = run(mode)
    doc["total_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    print(table(doc))
    print(f"\nwritten to {args.out} ({mode.name} mode, {doc['total_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
